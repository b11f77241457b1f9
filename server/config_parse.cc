#include "server/config_parse.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace shardis::config_parse {
namespace {

// Debian's abseil has its own absl::string_view, distinct from std::string_view.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
bool EqualsNoCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(ToAbsl(a), ToAbsl(b));
}

// Backslash escapes inside double quotes, as sdssplitargs reads and sdscatrepr writes them.
constexpr std::string_view kEscapeLetters = "nrtba";
constexpr std::string_view kEscapeChars = "\n\r\t\b\a";

}  // namespace

std::string ErrnoText(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof(buf));
}

// util.c string2ll: strict decimal, no spaces, no '+', no leading zeros, overflow checked.
bool String2ll(std::string_view s, long long* value) {
  size_t slen = s.size();
  if (slen == 0 || slen >= 21) return false;
  if (slen == 1 && s[0] == '0') {
    *value = 0;
    return true;
  }
  size_t p = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    if (++p == slen) return false;
  }
  if (s[p] < '1' || s[p] > '9') return false;
  unsigned long long v = s[p++] - '0';
  while (p < slen && s[p] >= '0' && s[p] <= '9') {
    if (v > ULLONG_MAX / 10) return false;
    v *= 10;
    unsigned digit = s[p] - '0';
    if (v > ULLONG_MAX - digit) return false;
    v += digit;
    ++p;
  }
  if (p < slen) return false;
  if (negative) {
    if (v > static_cast<unsigned long long>(-(LLONG_MIN + 1)) + 1) return false;
    *value = static_cast<long long>(0ULL - v);
  } else {
    if (v > static_cast<unsigned long long>(LLONG_MAX)) return false;
    *value = static_cast<long long>(v);
  }
  return true;
}

// util.c memtoull: digits then an optional unit b, k (1000), kb (1024), m, mb, g, gb, any case.
// Like Redis, overflow of the digits saturates and the unit multiplication wraps.
bool MemToUll(std::string_view s, unsigned long long* out) {
  if (!s.empty() && s[0] == '-') return false;
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  std::string_view unit = s.substr(digits);
  constexpr std::pair<std::string_view, unsigned long long> kUnits[] = {
      {"", 1},        {"b", 1},        {"k", 1000},          {"kb", 1024},
      {"m", 1000000}, {"mb", 1 << 20}, {"g", 1000000000ULL}, {"gb", 1ULL << 30}};
  unsigned long long mul = 0;
  for (const auto& [name, factor] : kUnits) {
    if (EqualsNoCase(unit, name)) mul = factor;
  }
  if (mul == 0) return false;
  if (digits >= 128) return false;
  std::string buf(s.substr(0, digits));
  char* end;
  errno = 0;
  unsigned long long val = std::strtoull(buf.c_str(), &end, 10);
  if ((val == 0 && errno == EINVAL) || *end != '\0') return false;
  *out = val * mul;
  return true;
}

// util.c string2d.
bool String2d(const std::string& s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  errno = 0;
  char* end;
  double d = std::strtod(s.c_str(), &end);
  if (static_cast<size_t>(end - s.c_str()) != s.size() ||
      (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL || std::fpclassify(d) == FP_ZERO)) ||
      std::isnan(d)) {
    return false;
  }
  *out = d;
  return true;
}

// C strtoll with Redis's "whole string consumed" check (accepts leading blanks and '+').
bool StrToLL(const std::string& s, long long* out) {
  char* end;
  *out = std::strtoll(s.c_str(), &end, 10);
  return *end == '\0';
}

// sds.c sdssplitlen with a one-space separator: "" gives no arguments, "a  b" gives "a", "", "b".
std::vector<std::string> SplitOnSpace(std::string_view s) {
  if (s.empty()) return {};
  return absl::StrSplit(ToAbsl(s), ' ');
}

// sds.c sdssplitargs: the redis.conf / redis-cli tokenizer.
bool SplitArgs(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  size_t p = 0;
  auto at = [&](size_t i) { return i < line.size() ? line[i] : '\0'; };
  auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto hex_value = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
  };
  while (true) {
    while (at(p) && std::isspace(static_cast<unsigned char>(at(p)))) ++p;
    if (!at(p)) return true;
    bool inq = false, insq = false, done = false;
    std::string current;
    while (!done) {
      char c = at(p);
      if (inq) {
        if (c == '\\' && at(p + 1) == 'x' && is_hex(at(p + 2)) && is_hex(at(p + 3))) {
          current += static_cast<char>(hex_value(at(p + 2)) * 16 + hex_value(at(p + 3)));
          p += 3;
        } else if (c == '\\' && at(p + 1)) {
          ++p;
          size_t e = kEscapeLetters.find(at(p));
          current += e == std::string_view::npos ? at(p) : kEscapeChars[e];
        } else if (c == '"') {
          if (at(p + 1) && !std::isspace(static_cast<unsigned char>(at(p + 1)))) return false;
          done = true;
        } else if (!c) {
          return false;
        } else {
          current += c;
        }
      } else if (insq) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          current += '\'';
        } else if (c == '\'') {
          if (at(p + 1) && !std::isspace(static_cast<unsigned char>(at(p + 1)))) return false;
          done = true;
        } else if (!c) {
          return false;
        } else {
          current += c;
        }
      } else if (c == '"') {
        inq = true;
      } else if (c == '\'') {
        insq = true;
      } else if (c == '\0' || std::string_view(" \n\r\t").find(c) != std::string_view::npos) {
        done = true;
      } else {
        current += c;
      }
      if (at(p)) ++p;
    }
    out->push_back(std::move(current));
  }
}

// sds.c sdscatrepr: how redis-server quotes command-line values into config text.
std::string Repr(std::string_view s) {
  std::string r = "\"";
  for (char c : s) {
    size_t e = kEscapeChars.find(c);
    if (c == '\\' || c == '"') {
      r += '\\';
      r += c;
    } else if (e != std::string_view::npos) {
      r += '\\';
      r += kEscapeLetters[e];
    } else if (std::isprint(static_cast<unsigned char>(c))) {
      r += c;
    } else {
      absl::StrAppendFormat(&r, "\\x%02x", static_cast<unsigned char>(c));
    }
  }
  return r + "\"";
}

std::string_view TrimLine(std::string_view s) {
  constexpr std::string_view kBlank = " \t\r\n";
  size_t b = s.find_first_not_of(kBlank);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kBlank) - b + 1);
}

}  // namespace shardis::config_parse
