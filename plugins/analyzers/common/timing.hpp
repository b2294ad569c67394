// common/timing.hpp — when a dialogue's next turn came, as the analyzers
// read it: by the turns' timestamps (what the user did) when both have
// one, else by the recorded run times (a log replayed back to back runs
// its turns seconds apart whatever their users did). Header-only,
// compiled into each analyzer plugin. Pure functions: any thread; the
// views must be valid (inside analyze()). Also the `dialogue` parameter
// that says whether the next turn is a reaction at all.
#pragma once

#include <cascade/sdk/analyzer.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace cascade::analyzers {

// Seconds since the epoch of an ISO 8601 timestamp (2026-01-15T09:00:00Z,
// fractions and +hh:mm offsets allowed), or nullopt.
inline std::optional<double> epoch_seconds(std::string_view iso) {
  const std::string s(iso);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
  double sec = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  double offset = 0;
  int oh = 0, om = 0;
  const char* rest = s.c_str() + n;
  if ((*rest == '+' || *rest == '-') && std::sscanf(rest + 1, "%2d:%2d", &oh, &om) == 2)
    offset = (*rest == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + sec - offset;
}

// Seconds from `now` to `next`: between their timestamps when both have
// one, else from the end of `now`'s run to the start of `next`'s.
inline double gap_seconds(const sdk::TurnView& now, const sdk::TurnView& next) {
  const auto a = epoch_seconds(now.timestamp()), b = epoch_seconds(next.timestamp());
  if (a && b) return *b - *a;
  return static_cast<double>(next.start_ns() - now.end_ns()) / 1e9;
}

// An isolator's `dialogue` parameter: true for "live" (the next turns are
// the user's reaction), false for "scripted" (written in advance); throws
// sdk::Error(InvalidArgument) for anything else, which refuses the open.
inline bool live_dialogue(const std::string& value) {
  if (value != "live" && value != "scripted")
    throw sdk::Error(sdk::Status::InvalidArgument, "parameter 'dialogue' is '" + value + "': give live or scripted");
  return value == "live";
}

}  // namespace cascade::analyzers
