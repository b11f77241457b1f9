#include "storage/glob.h"

#include <cctype>
#include <utility>

namespace shardis {
namespace {

// Recursive matcher. `give_up` is set once a '*' has tried every suffix of the text: an outer
// '*' trying a later start cannot do better, which keeps hostile patterns such as "*a*a*a*b"
// linear-ish instead of exponential. `depth` bounds recursion as Redis 7 does.
bool Match(const char* p, const char* pend, const char* s, const char* send, bool nocase, int depth,
           bool* give_up) {
  if (depth > 1000) return false;
  auto lower = [nocase](char c) {
    return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
  };
  while (p < pend && s < send) {
    switch (*p) {
      case '*':
        while (p + 1 < pend && p[1] == '*') ++p;
        if (p + 1 == pend) return true;
        for (const char* t = s; t < send; ++t) {
          if (Match(p + 1, pend, t, send, nocase, depth + 1, give_up)) return true;
          if (*give_up) return false;
        }
        *give_up = true;
        return false;
      case '?':
        ++s;
        break;
      case '[': {
        ++p;
        bool negate = p < pend && (*p == '^');
        if (negate) ++p;
        bool matched = false;
        while (p < pend && *p != ']') {
          if (*p == '\\' && p + 1 < pend) {
            ++p;
            if (*p == *s) matched = true;  // Redis compares escaped class bytes case-sensitively
          } else if (p + 2 < pend && p[1] == '-') {
            // As Redis: "[a-]" is the range a..']'; bounds are ordered, then lowercased.
            char lo = p[0];
            char hi = p[2];
            if (lo > hi) std::swap(lo, hi);
            lo = lower(lo);
            hi = lower(hi);
            char c = lower(*s);
            if (c >= lo && c <= hi) matched = true;
            p += 2;
          } else if (lower(*p) == lower(*s)) {
            matched = true;
          }
          ++p;
        }
        if (p >= pend) --p;  // unterminated class: Redis treats the end as ']'
        if (negate) matched = !matched;
        if (!matched) return false;
        ++s;
        break;
      }
      case '\\':
        if (p + 1 < pend) ++p;
        [[fallthrough]];
      default:
        if (lower(*p) != lower(*s)) return false;
        ++s;
        break;
    }
    ++p;
  }
  while (p < pend && *p == '*') ++p;
  return p == pend && s == send;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  // Redis's stringmatchlen() never enters its loop for an empty string, so "" matches only the
  // empty pattern (not even "*"; KEYS and SCAN special-case the pattern "*" themselves).
  if (text.empty()) return pattern.empty();
  bool give_up = false;
  return Match(pattern.data(), pattern.data() + pattern.size(), text.data(),
               text.data() + text.size(), nocase, 0, &give_up);
}

}  // namespace shardis
