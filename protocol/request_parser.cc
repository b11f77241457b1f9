#include "protocol/request_parser.h"

#include <cstring>

namespace shardis {
namespace {

// Redis's limits for a client that has yet to authenticate.
constexpr int64_t kUnauthenticatedMaxArgs = 10;
constexpr int64_t kUnauthenticatedMaxBulk = 16384;

// Parses a decimal int64 exactly as Redis's string2ll: optional '-', no '+', no spaces, no
// leading zeros (except "0"), no overflow.
bool ParseStrictInt(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s.size() == 1 && s[0] == '0') {
    *out = 0;
    return true;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t digit = s[i] - '0';
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// isspace(): what separates arguments and what must follow a closing quote.
bool IsBlank(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

// What ends an unquoted argument. Unlike IsBlank(), '\v' and '\f' do not (sdssplitargs).
bool EndsUnquoted(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Finds `c` in [base, base + avail) the way redis-server's strchr() over its NUL-terminated query
// buffer does: a NUL byte before it hides it (Redis then waits for more input).
const char* FindLineEnd(const char* base, size_t avail, char c) {
  const char* found = static_cast<const char*>(std::memchr(base, c, avail));
  if (found == nullptr || std::memchr(base, '\0', found - base) != nullptr) return nullptr;
  return found;
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && IsBlank(line[i])) ++i;
    if (i >= n) return true;
    std::string current;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      if (in_double) {
        if (i >= n) return false;  // unterminated quotes
        char c = line[i];
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && HexValue(line[i + 2]) >= 0 &&
            HexValue(line[i + 3]) >= 0) {
          current.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n':
              current.push_back('\n');
              break;
            case 'r':
              current.push_back('\r');
              break;
            case 't':
              current.push_back('\t');
              break;
            case 'b':
              current.push_back('\b');
              break;
            case 'a':
              current.push_back('\a');
              break;
            default:
              current.push_back(line[i]);
              break;
          }
        } else if (c == '"') {
          // The closing quote must be followed by a blank or the end.
          if (i + 1 < n && !IsBlank(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(c);
        }
      } else if (in_single) {
        if (i >= n) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          current.push_back('\'');
        } else if (c == '\'') {
          if (i + 1 < n && !IsBlank(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(c);
        }
      } else {
        if (i >= n) break;
        char c = line[i];
        if (EndsUnquoted(c)) {
          done = true;
        } else if (c == '"') {
          in_double = true;
        } else if (c == '\'') {
          in_single = true;
        } else {
          current.push_back(c);
        }
      }
      if (i < n) ++i;
    }
    out->push_back(std::move(current));
  }
}

void RequestParser::Reset() {
  state_ = State::kIdle;
  start_ = pos_ = 0;
  args_left_ = 0;
  bulk_len_ = -1;
  spans_.clear();
  args_.clear();
  consumed_ = 0;
}

RequestParser::Result RequestParser::Fail(const char* message) {
  error_ = std::string("Protocol error: ") + message;
  return Result::kError;
}

RequestParser::Result RequestParser::Parse(std::string_view input) {
  args_.clear();
  consumed_ = 0;
  // pos_ is relative to the input of this call: the caller drops what consumed() reports and
  // passes the rest again (grown after kNeedMore). Empty commands skipped before a kNeedMore are
  // reported as consumed, so a flood of blank lines never piles up in the caller's buffer.
  while (true) {
    Result r;
    if (state_ == State::kIdle) {
      start_ = pos_;
      if (pos_ >= input.size()) {
        r = Result::kNeedMore;
      } else if (input[pos_] == '*') {
        state_ = State::kMultibulk;
        args_left_ = -1;  // header not read yet
        bulk_len_ = -1;
        spans_.clear();
        r = ParseMultibulk(input);
      } else {
        r = ParseInline(input);
      }
    } else {
      r = ParseMultibulk(input);
    }
    if (r == Result::kNeedMore) {
      // Report the empty commands skipped before the incomplete one; positions of a command in
      // progress are relative to start_, so rebasing is a subtraction.
      consumed_ = start_;
      pos_ -= start_;
      start_ = 0;
    }
    if (r != Result::kCommand) return r;
    if (args_.empty()) continue;  // a blank line, "*0" or "*-1"
    consumed_ = pos_;
    start_ = pos_ = 0;
    return r;
  }
}

RequestParser::Result RequestParser::ParseInline(std::string_view input) {
  const char* base = input.data() + pos_;
  size_t avail = input.size() - pos_;
  const char* nl = FindLineEnd(base, avail, '\n');
  if (nl == nullptr) {
    if (avail > limits_.max_inline_len) return Fail("too big inline request");
    return Result::kNeedMore;
  }
  size_t line_len = nl - base;
  std::string_view line(base, line_len);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitInlineArgs(line, &inline_args_)) return Fail("unbalanced quotes in request");
  pos_ += line_len + 1;
  args_.assign(inline_args_.begin(), inline_args_.end());
  return Result::kCommand;
}

RequestParser::Result RequestParser::ParseMultibulk(std::string_view input) {
  if (args_left_ < 0) {
    const char* base = input.data() + pos_;
    size_t avail = input.size() - pos_;
    const char* cr = FindLineEnd(base, avail, '\r');
    if (cr == nullptr) {
      if (avail > limits_.max_inline_len) return Fail("too big mbulk count string");
      return Result::kNeedMore;
    }
    // Like Redis, the byte after '\r' is skipped unchecked, but it must have arrived.
    size_t header_len = cr - base;
    if (header_len + 2 > avail) return Result::kNeedMore;
    int64_t count = 0;
    if (!ParseStrictInt(std::string_view(base + 1, header_len - 1), &count) ||
        count > limits_.max_multibulk_len) {
      return Fail("invalid multibulk length");
    }
    if (limits_.unauthenticated && count > kUnauthenticatedMaxArgs) {
      return Fail("unauthenticated multibulk length");
    }
    pos_ += header_len + 2;
    if (count <= 0) {
      state_ = State::kIdle;
      return Result::kCommand;  // empty: skipped by Parse()
    }
    args_left_ = count;
    spans_.reserve(count < 1024 ? count : 1024);
  }
  while (args_left_ > 0) {
    if (bulk_len_ < 0) {
      if (pos_ >= input.size()) break;
      const char* base = input.data() + pos_;
      size_t avail = input.size() - pos_;
      const char* cr = FindLineEnd(base, avail, '\r');
      if (cr == nullptr) {
        if (avail > limits_.max_inline_len) return Fail("too big bulk count string");
        break;
      }
      size_t header_len = cr - base;
      if (header_len + 2 > avail) break;
      if (base[0] != '$') {
        error_ = std::string("Protocol error: expected '$', got '") + base[0] + "'";
        return Result::kError;
      }
      int64_t len = 0;
      if (!ParseStrictInt(std::string_view(base + 1, header_len - 1), &len) || len < 0 ||
          len > limits_.max_bulk_len) {
        return Fail("invalid bulk length");
      }
      if (limits_.unauthenticated && len > kUnauthenticatedMaxBulk) {
        return Fail("unauthenticated bulk length");
      }
      pos_ += header_len + 2;
      bulk_len_ = len;
    }
    // The two bytes after the payload are skipped unchecked, as Redis does.
    if (input.size() - pos_ < static_cast<size_t>(bulk_len_) + 2) break;
    spans_.emplace_back(pos_ - start_, static_cast<size_t>(bulk_len_));
    pos_ += bulk_len_ + 2;
    bulk_len_ = -1;
    --args_left_;
  }
  if (args_left_ > 0) return Result::kNeedMore;
  state_ = State::kIdle;
  args_.reserve(spans_.size());
  for (const auto& [offset, len] : spans_) args_.emplace_back(input.data() + start_ + offset, len);
  spans_.clear();
  return Result::kCommand;
}

}  // namespace shardis
