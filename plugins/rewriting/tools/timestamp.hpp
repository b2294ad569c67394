// rewriting/tools/timestamp.hpp — a turn's input timestamp as seconds.
// Used by the session cut of `cascade rewrite build` (sessions.hpp), the
// feedback analyzer (plugins/analyzers/feedback) and the online rewriting
// index builder, so that all three cut sessions on the same clock.
//
// Lifecycle/threading: a pure function; reentrant. No dependencies beyond
// the standard library (analyzer plugins link it).
#pragma once

#include <optional>
#include <string_view>

namespace cascade::rewriting {

// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM]",
// or nullopt.
std::optional<double> parse_iso8601(std::string_view text);

}  // namespace cascade::rewriting
