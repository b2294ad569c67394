// catalog/temporal.hpp — dates and times in words to canonical values.
//
// Canonical forms (all relative to "now", which the resolver never needs
// to know; the simulated world applies its own clock):
//   time   "HH:MM" (24 h when am/pm/noon/midnight/"in the evening" says
//          which half of the day, else the hour as spoken: "ten" -> "10:00")
//          or a duration "PT<n>M" / "PT<n>H" ("five minutes" -> "PT5M").
//   date   "day+N" / "day-N" (today, tomorrow, yesterday, next day),
//          "week+N", "weekend+N", "month+N", "year+N" (this/next/last),
//          a weekday name "friday" (also "this friday", "every friday" ->
//          "every friday", "next friday" -> "next friday"), "weekdays",
//          "MM-DD" for a month and day ("april two", "the twenty third of
//          april"), "dom-DD" for a bare day of month ("the fifteenth"),
//          "month-MM" for a bare month ("march").
// Anything else gives nullopt: ER reports it unresolved.
//
// Lifecycle: free functions. Threading: pure, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cascade::language {

std::optional<std::string> normalize_time(std::string_view text);
std::optional<std::string> normalize_date(std::string_view text);

}  // namespace cascade::language
