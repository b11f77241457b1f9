// Parsing and formatting helpers shared by the command families (Redis's number rules).
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "server/command.h"
#include "storage/value.h"

namespace shardis::cmd {

bool ParseInt64(std::string_view s, int64_t* out) { return IsCanonicalInt(s, out); }

bool ParseDouble(std::string_view s, double* out) {
  // Redis's string2d: strtod over the whole string, no leading space, no nan.
  if (s.empty() || s.size() > 5000 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) return false;
  *out = v;
  return true;
}

bool ParseLongDouble(std::string_view s, long double* out) {
  // Redis's string2ld: at most 5k chars, no leading space, no nan; overflow is an error.
  if (s.empty() || s.size() > 5000 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  long double v = std::strtold(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return false;
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) return false;
  *out = v;
  return true;
}

std::string_view ParseBlockTimeout(std::string_view arg, int64_t now_ms, int64_t* deadline_ms) {
  long double seconds = 0;
  if (!ParseLongDouble(arg, &seconds)) return "ERR timeout is not a float or out of range";
  long double ms = std::ceil(seconds * 1000.0L);
  int64_t tval = INT64_MIN;
  if (!std::isnan(ms) && ms < 0x1p63L && ms >= -0x1p63L) tval = static_cast<int64_t>(ms);
  if (tval < 0) return "ERR timeout is negative";
  *deadline_ms = (tval == 0 || tval > INT64_MAX - now_ms) ? 0 : now_ms + tval;
  return "";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(AV(a), AV(b));
}

std::string ToLower(std::string_view s) { return absl::AsciiStrToLower(AV(s)); }

std::string ToUpper(std::string_view s) { return absl::AsciiStrToUpper(AV(s)); }

std::string FormatLongDouble(long double value) {
  // Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf", then trailing zeros (and a trailing
  // point) removed; "-0" becomes "0".
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[5600];
  int len = std::snprintf(buf, sizeof(buf), "%.17Lf", value);
  if (len <= 0 || static_cast<size_t>(len) >= sizeof(buf)) return "0";
  if (std::strchr(buf, '.') != nullptr) {
    char* p = buf + len - 1;
    while (*p == '0') {
      --p;
      --len;
    }
    if (*p == '.') --len;
  }
  if (len == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, len);
}

}  // namespace shardis::cmd
