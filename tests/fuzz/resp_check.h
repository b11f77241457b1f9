// RespCheck: a strict validator of RESP2/RESP3 reply bytes, for the fuzz targets' invariants
// ("every reply is valid RESP"). Header-only, no state; any thread. It is also the project's only
// reply parser outside the tests' hiredis client, so fuzz_request_parser fuzzes it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shardis::fuzz {

// Parses one RESP value of `in` starting at *pos; on success advances *pos past it. Accepts every
// RESP3 type (+ - : $ * _ , # ( = % ~ > | and the RESP2 nulls $-1 / *-1). Rejects anything
// truncated or malformed, and aggregates nested deeper than `max_depth`.
inline bool ParseRespValue(std::string_view in, size_t* pos, int max_depth = 64) {
  if (max_depth < 0 || *pos >= in.size()) return false;
  const char type = in[*pos];
  const size_t line_start = *pos + 1;
  const size_t cr = in.find("\r\n", line_start);
  if (cr == std::string_view::npos) return false;
  const std::string_view line = in.substr(line_start, cr - line_start);
  // Simple lines never contain CR or LF.
  if (line.find_first_of("\r\n") != std::string_view::npos) return false;
  size_t after = cr + 2;
  auto parse_int = [](std::string_view s, int64_t* out) {
    if (s.empty() || s.size() > 20) return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
      neg = true;
      i = 1;
      if (s.size() == 1) return false;
    }
    uint64_t v = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      if (v > (UINT64_MAX - (s[i] - '0')) / 10) return false;
      v = v * 10 + (s[i] - '0');
    }
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  };
  int64_t n = 0;
  switch (type) {
    case '+':
    case '-':
    case ',':  // double: "inf", "-inf", "nan" or a number; its text is not re-validated
    case '(':  // big number
      *pos = after;
      return true;
    case ':':
      if (!parse_int(line, &n)) return false;
      *pos = after;
      return true;
    case '_':
      if (!line.empty()) return false;
      *pos = after;
      return true;
    case '#':
      if (line != "t" && line != "f") return false;
      *pos = after;
      return true;
    case '$':
    case '=':
    case '!': {
      if (!parse_int(line, &n)) return false;
      if (n == -1 && type == '$') {
        *pos = after;
        return true;
      }
      if (n < 0 || static_cast<uint64_t>(n) > in.size() - after) return false;
      if (in.size() - after - n < 2 || in.substr(after + n, 2) != "\r\n") return false;
      if (type == '=' && (n < 4 || in[after + 3] != ':')) return false;
      *pos = after + n + 2;
      return true;
    }
    case '*':
    case '%':
    case '~':
    case '>':
    case '|': {
      if (!parse_int(line, &n)) return false;
      if (n == -1 && type == '*') {
        *pos = after;
        return true;
      }
      if (n < 0) return false;
      // Each element takes at least 3 bytes ("_\r\n"): reject impossible counts before looping.
      const int64_t elements = (type == '%' || type == '|') ? 2 * n : n;
      if (n > static_cast<int64_t>(in.size()) || elements > static_cast<int64_t>(in.size()))
        return false;
      *pos = after;
      for (int64_t i = 0; i < elements; ++i) {
        if (!ParseRespValue(in, pos, max_depth - 1)) return false;
      }
      // An attribute annotates the value that follows it.
      if (type == '|') return ParseRespValue(in, pos, max_depth - 1);
      return true;
    }
    default:
      return false;
  }
}

// True when `in` is exactly `count` complete RESP values.
inline bool IsRespSequence(std::string_view in, size_t count) {
  size_t pos = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!ParseRespValue(in, &pos)) return false;
  }
  return pos == in.size();
}

}  // namespace shardis::fuzz
