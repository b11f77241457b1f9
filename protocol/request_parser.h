// RequestParser: incremental parser for client requests (RESP multibulk and inline commands).
//
// One parser per connection, used only by the connection's reactor thread. The caller keeps the
// unconsumed input contiguous (it may move it, e.g. to compact its buffer) and passes it again,
// grown by whatever arrived, on every call; the parser remembers how far it got (positions
// relative to the start of the unconsumed input), so
// a large bulk that trickles in is scanned once, not once per read. Any split of the input across
// reads yields the same commands. Malformed input yields an error whose text is redis-server's
// ("Protocol error: ..."); the connection then replies with it and closes, as Redis does. As in
// Redis (which searches its query buffer with strchr), a NUL byte before the CR/LF ending an inline
// line or a multibulk/bulk header hides that line end: the parser waits for more input, until the
// "too big ..." limits apply.
//
// Invariant: after kCommand, args() views bytes of the input passed to that call (multibulk) or
// the parser's own storage (inline); they stay valid until the next Parse() or Reset().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shardis {

struct ParserLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;                // proto-max-bulk-len
  size_t max_inline_len = 64 * 1024;                         // PROTO_INLINE_MAX_SIZE
  int64_t max_multibulk_len = 1024LL * 1024 * 1024 * 2 - 1;  // INT_MAX, as Redis
  // A client that has yet to authenticate: at most 10 arguments of at most 16 KB (Redis's
  // limits, so it cannot make the server buffer much before AUTH).
  bool unauthenticated = false;
};

class RequestParser {
 public:
  enum class Result {
    kNeedMore,  // input holds no complete command yet
    kCommand,   // a command: args() and consumed() are valid
    kError,     // protocol error: error() is the reply text (without "-ERR ")
  };

  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

  // Parses the next command from `input` (the unconsumed bytes). Empty commands (a blank inline
  // line, "*0\r\n", "*-1\r\n") are consumed silently and parsing goes on.
  Result Parse(std::string_view input);

  const std::vector<std::string_view>& args() const { return args_; }
  // After kCommand: the bytes of input the command used (with any empty commands before it). The
  // caller drops exactly these before the next call (or, to run the command later, passes the
  // same input again and gets the same command). After kNeedMore: the bytes of empty commands
  // skipped before the incomplete one (often 0); the caller drops them too and passes the rest
  // again, grown by new bytes.
  size_t consumed() const { return consumed_; }
  const std::string& error() const { return error_; }
  // Bytes the caller must keep for the partial command in progress; used by query-buffer limits.
  size_t pending_bulk_len() const { return bulk_len_ > 0 ? static_cast<size_t>(bulk_len_) : 0; }
  // True while a command has begun but is not complete.
  bool in_progress() const { return state_ != State::kIdle; }

  void set_limits(const ParserLimits& limits) { limits_ = limits; }
  void set_unauthenticated(bool unauthenticated) { limits_.unauthenticated = unauthenticated; }
  void Reset();

 private:
  enum class State : uint8_t { kIdle, kMultibulk };

  Result ParseInline(std::string_view input);
  Result ParseMultibulk(std::string_view input);
  Result Fail(const char* message);

  ParserLimits limits_;
  State state_ = State::kIdle;
  size_t start_ = 0;       // where the current command starts in the input
  size_t pos_ = 0;         // parse position in the input
  int64_t args_left_ = 0;  // multibulk elements still to read
  int64_t bulk_len_ = -1;  // length of the bulk being read, -1 before its header
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset from start_, length)
  std::vector<std::string_view> args_;
  std::vector<std::string> inline_args_;
  size_t consumed_ = 0;
  std::string error_;
};

// Splits an inline command line into arguments the way redis-server does (sdssplitargs): space,
// tab, CR and LF end an unquoted argument (any isspace() byte is skipped between arguments, but
// '\v' and '\f' inside an unquoted argument belong to it); "double quotes" support \n \r \t \b \a
// \\ \" and \xHH escapes; 'single quotes' support \'. Returns false on unbalanced quotes or a
// closing quote not followed by a blank.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out);

}  // namespace shardis
