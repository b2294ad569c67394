// Turn timestamps: ISO 8601 text -> seconds since the epoch (timestamp.hpp).
#include "tools/timestamp.hpp"

#include <charconv>
#include <cstdint>
#include <system_error>

namespace cascade::rewriting {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool digits(std::string_view s, size_t at, size_t n, int64_t& out) {
  if (at + n > s.size()) return false;
  const char* b = s.data() + at;
  auto [ptr, ec] = std::from_chars(b, b + n, out);
  return ec == std::errc{} && ptr == b + n;
}

}  // namespace

std::optional<double> parse_iso8601(std::string_view s) {
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  double t = static_cast<double>(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
  size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    double scale = 0.1;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, scale /= 10) t += (s[at] - '0') * scale;
  }
  if (at == s.size() || (s[at] == 'Z' && at + 1 == s.size())) return t;
  int64_t oh = 0, om = 0;
  if ((s[at] == '+' || s[at] == '-') && s.size() == at + 6 && s[at + 3] == ':' && digits(s, at + 1, 2, oh) &&
      digits(s, at + 4, 2, om))
    return t - (s[at] == '+' ? 1 : -1) * static_cast<double>(oh * 3600 + om * 60);
  return std::nullopt;
}

}  // namespace cascade::rewriting
