#include "catalog/temporal.hpp"

#include "text/text.hpp"

#include <array>
#include <cstdio>
#include <vector>

namespace cascade::language {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays{"monday", "tuesday", "wednesday", "thursday",
                                                     "friday", "saturday", "sunday"};
constexpr std::array<std::string_view, 12> kMonths{"january", "february", "march",     "april",
                                                   "may",     "june",     "july",      "august",
                                                   "september", "october", "november", "december"};

// Drops possessives ("today's" -> "today") and filler words that do not
// change the meaning of a date or time ("at", "on", "the", "for").
std::vector<std::string> clean(std::string_view text) {
  std::vector<std::string> out;
  for (auto t : tokenize(text)) {
    if (t.size() > 2 && t.compare(t.size() - 2, 2, "'s") == 0) t.resize(t.size() - 2);
    if (t == "at" || t == "on" || t == "the" || t == "for" || t == "of" || t == "by" || t == "around") continue;
    out.push_back(t);
  }
  return out;
}

int weekday_index(std::string_view w) {
  for (size_t i = 0; i < kWeekdays.size(); ++i)
    if (kWeekdays[i] == w) return static_cast<int>(i);
  return -1;
}
int month_index(std::string_view w) {
  for (size_t i = 0; i < kMonths.size(); ++i)
    if (kMonths[i] == w) return static_cast<int>(i) + 1;
  return 0;
}
std::string two(long v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02ld", v);
  return buf;
}
std::string hhmm(long h, long m) { return two(h) + ":" + two(m); }

}  // namespace

std::optional<std::string> normalize_time(std::string_view text) {
  auto t = clean(text);
  if (t.empty()) return std::nullopt;
  std::string s = join(t);
  if (s == "noon" || s == "twelve noon" || s == "midday" || s == "12 noon") return "12:00";
  if (s == "midnight" || s == "twelve midnight") return "00:00";
  // Durations: "<n> minutes|hours", "an hour", "half an hour".
  if (s == "an hour" || s == "one hour" || s == "a hour") return "PT1H";
  if (s == "half an hour" || s == "half hour") return "PT30M";
  {
    auto n = parse_number(t, 0);
    if (n && n->used + 1 <= t.size()) {
      const std::string& unit = t[n->used];
      bool tail_ok = n->used + 1 == t.size() || join(t, n->used + 1, t.size()) == "from now";
      if (tail_ok && (unit == "minute" || unit == "minutes" || unit == "mins" || unit == "min"))
        return "PT" + std::to_string(n->value) + "M";
      if (tail_ok && (unit == "hour" || unit == "hours")) return "PT" + std::to_string(n->value) + "H";
    }
  }
  // Clock times.
  size_t i = 0;
  long hour = -1, minute = 0;
  if (t[0] == "half" && t.size() >= 3 && t[1] == "past") {
    i = 2;
    minute = 30;
  } else if (t[0] == "quarter" && t.size() >= 3 && (t[1] == "past" || t[1] == "to")) {
    i = 2;
    minute = t[1] == "past" ? 15 : -15;
  }
  auto h = parse_number(t, i);
  if (!h) {
    // "7:30" was split by normalisation into "7 30"; parse_number handles
    // digits one token at a time, so nothing is lost here.
    return std::nullopt;
  }
  hour = h->value;
  i += h->used;
  if (minute == 0 && i < t.size()) {
    if (auto m = parse_number(t, i); m && m->value < 60) {
      minute = m->value;
      i += m->used;
    } else if (t[i] == "o'clock" || t[i] == "oclock") {
      ++i;
    }
  }
  if (minute < 0) {  // quarter to
    hour = hour == 0 ? 23 : hour - 1;
    minute = 45;
  }
  if (hour < 0 || hour > 24) return std::nullopt;
  // Half of the day.
  std::string rest = join(t, i, t.size());
  bool pm = false, am = false;
  if (rest == "pm" || rest == "p m" || rest == "in evening" || rest == "in afternoon" || rest == "tonight" ||
      rest == "night" || rest == "in night" || rest == "evening" || rest == "afternoon")
    pm = true;
  else if (rest == "am" || rest == "a m" || rest == "in morning" || rest == "morning")
    am = true;
  else if (rest == "o'clock" || rest == "oclock")
    rest.clear();
  else if (!rest.empty())
    return std::nullopt;
  if (pm && hour < 12) hour += 12;
  if (am && hour == 12) hour = 0;
  if (hour == 24) hour = 0;
  return hhmm(hour, minute);
}

std::optional<std::string> normalize_date(std::string_view text) {
  auto t = clean(text);
  if (t.empty()) return std::nullopt;
  std::string s = join(t);
  if (s == "today" || s == "tonight" || s == "this day" || s == "now") return "day+0";
  if (s == "tomorrow" || s == "next day" || s == "tomorrow morning" || s == "tomorrow night") return "day+1";
  if (s == "day after tomorrow") return "day+2";
  if (s == "yesterday" || s == "last night") return "day-1";
  if (s == "weekdays" || s == "every weekday" || s == "week days") return "weekdays";
  for (auto [word, unit] : {std::pair{"week", "week"}, std::pair{"weekend", "weekend"}, std::pair{"month", "month"},
                            std::pair{"year", "year"}}) {
    if (s == std::string("this ") + word || s == word) return std::string(unit) + "+0";
    if (s == std::string("next ") + word || s == std::string("coming ") + word) return std::string(unit) + "+1";
    if (s == std::string("last ") + word || s == std::string("previous ") + word) return std::string(unit) + "-1";
  }
  // Weekdays.
  if (t.size() == 1 && weekday_index(t[0]) >= 0) return t[0];
  if (t.size() == 2 && weekday_index(t[1]) >= 0) {
    if (t[0] == "this" || t[0] == "coming") return t[1];
    if (t[0] == "next") return "next " + t[1];
    if (t[0] == "every") return "every " + t[1];
    if (t[0] == "last") return "last " + t[1];
  }
  // Month and day in either order; a bare month; a bare day of month.
  int month = 0;
  size_t mpos = t.size();
  for (size_t i = 0; i < t.size(); ++i)
    if (int m = month_index(t[i])) {
      month = m;
      mpos = i;
      break;
    }
  std::vector<std::string> rest;
  for (size_t i = 0; i < t.size(); ++i)
    if (i != mpos) rest.push_back(t[i]);
  // A year ("two thousand seventeen") after the day is accepted and dropped:
  // the world has one year.
  long day = 0;
  size_t used = 0;
  if (!rest.empty()) {
    if (auto o = parse_ordinal(rest, 0)) {
      day = o->value;
      used = o->used;
    } else if (auto n = parse_number(rest, 0); n && n->value >= 1 && n->value <= 31) {
      day = n->value;
      used = n->used;
    } else {
      return std::nullopt;
    }
    if (used < rest.size()) {
      auto y = parse_number(rest, used);
      if (!y || y->value < 1900 || used + y->used != rest.size()) return std::nullopt;
    }
  }
  if (month != 0 && day != 0) return two(month) + "-" + two(day);
  if (month != 0 && rest.empty()) return "month-" + two(month);
  if (month == 0 && day != 0 && used == rest.size()) return "dom-" + two(day);
  return std::nullopt;
}

}  // namespace cascade::language
