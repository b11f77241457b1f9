// Tests for RequestParser: every frame kind (multibulk, inline, quoting, empty commands) parsed
// identically however the input is split across reads, redis-server's protocol error texts for
// malformed frames, and seeded random pipelines / garbage that must never crash.
#include "protocol/request_parser.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace shardis {
namespace {

using Command = std::vector<std::string>;
using Result = RequestParser::Result;

struct Outcome {
  std::vector<Command> commands;
  std::optional<std::string> error;
  // Bytes never consumed (a partial command, skipped blank lines); compared only without an
  // error, as after an error the connection closes.
  size_t leftover = 0;
};

void ExpectSameOutcome(const Outcome& got, const Outcome& want) {
  EXPECT_EQ(got.commands, want.commands);
  EXPECT_EQ(got.error, want.error);
  if (!want.error) {
    EXPECT_EQ(got.leftover, want.leftover);
  }
}

// Feeds chunks as a connection would: appends each chunk to its buffer, parses every complete
// command, drops consumed() bytes after kCommand and keeps the buffer after kNeedMore. The buffer
// is moved to a new address after kNeedMore (every time while small), which the parser must
// tolerate.
Outcome Feed(const std::vector<std::string_view>& chunks, const ParserLimits& limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  std::string buffer;
  size_t need_more_count = 0;
  for (std::string_view chunk : chunks) {
    buffer.append(chunk);
    // Bounded: each kCommand consumes at least one byte.
    const size_t bound = buffer.size() + 2;
    for (size_t guard = 0; guard < bound; ++guard) {
      Result r = parser.Parse(buffer);
      if (r == Result::kError) {
        out.error = parser.error();
        out.leftover = buffer.size();
        return out;
      }
      if (r == Result::kNeedMore) {
        buffer.erase(0, parser.consumed());  // skipped empty commands, if any
        if (buffer.size() > 4096 && ++need_more_count % 1024 != 0) break;
        std::string moved;
        moved.reserve(buffer.capacity() + 64);
        moved = buffer;
        buffer.swap(moved);
        break;
      }
      EXPECT_GT(parser.consumed(), 0u);
      EXPECT_LE(parser.consumed(), buffer.size());
      EXPECT_FALSE(parser.args().empty());
      out.commands.emplace_back(parser.args().begin(), parser.args().end());
      buffer.erase(0, parser.consumed());
    }
  }
  out.leftover = buffer.size();
  return out;
}

Outcome FeedWhole(std::string_view input, const ParserLimits& limits = {}) {
  return Feed({input}, limits);
}

Outcome FeedBytes(std::string_view input, const ParserLimits& limits = {}) {
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < input.size(); ++i) chunks.push_back(input.substr(i, 1));
  return Feed(chunks, limits);
}

// Checks that the whole input, the input split in two at every split point (every `stride`th one
// away from both ends for big inputs) and the input fed byte by byte all give `want`.
void ExpectChunkingInvariant(std::string_view input, const Outcome& want,
                             const ParserLimits& limits = {}, size_t stride = 1) {
  {
    SCOPED_TRACE("whole input");
    ExpectSameOutcome(FeedWhole(input, limits), want);
  }
  for (size_t i = 0; i <= input.size(); ++i) {
    bool near_edge = i < 64 || input.size() - i < 64;
    if (!near_edge && i % stride != 0) continue;
    SCOPED_TRACE("split at " + std::to_string(i));
    ExpectSameOutcome(Feed({input.substr(0, i), input.substr(i)}, limits), want);
    if (::testing::Test::HasFailure()) return;
  }
  SCOPED_TRACE("byte by byte");
  ExpectSameOutcome(FeedBytes(input, limits), want);
}

Outcome Commands(std::vector<Command> commands, size_t leftover = 0) {
  Outcome out;
  out.commands = std::move(commands);
  out.leftover = leftover;
  return out;
}

Outcome Error(std::vector<Command> commands, std::string error) {
  Outcome out;
  out.commands = std::move(commands);
  out.error = std::move(error);
  return out;
}

std::string Multibulk(const Command& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Frame kinds, each under every chunking.

TEST(RequestParserTest, MultibulkSeveralArgs) {
  std::string in = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  ExpectChunkingInvariant(in, Commands({{"SET", "key", "value"}}));
}

TEST(RequestParserTest, MultibulkEmptyBulk) {
  std::string in = "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n";
  ExpectChunkingInvariant(in, Commands({{"SET", "", ""}}));
}

TEST(RequestParserTest, MultibulkBinaryBulkWithCrlfInside) {
  std::string value("a\r\nb\r\n\0\r\n*1\r\n$", 14);
  ASSERT_EQ(value.size(), 14u);
  ExpectChunkingInvariant(Multibulk({"SET", "k", value}), Commands({{"SET", "k", value}}));
}

TEST(RequestParserTest, MultibulkAllByteValues) {
  std::string value;
  for (int c = 0; c < 256; ++c) value.push_back(static_cast<char>(c));
  ExpectChunkingInvariant(Multibulk({"ECHO", value}), Commands({{"ECHO", value}}));
}

TEST(RequestParserTest, MultibulkLargeBulk) {
  std::string value(100 * 1024, 'x');
  for (size_t i = 0; i < value.size(); i += 97) value[i] = static_cast<char>('a' + i % 26);
  value[500] = '\r';
  value[501] = '\n';
  std::string in = Multibulk({"SET", "big", value}) + "PING\r\n";
  ExpectChunkingInvariant(in, Commands({{"SET", "big", value}, {"PING"}}), {}, 997);
}

TEST(RequestParserTest, LargeBulkReportsPendingLength) {
  RequestParser parser;
  std::string in = "*2\r\n$3\r\nSET\r\n$100000\r\nabc";
  EXPECT_EQ(parser.Parse(in), Result::kNeedMore);
  EXPECT_TRUE(parser.in_progress());
  EXPECT_EQ(parser.pending_bulk_len(), 100000u);
  in += std::string(100000 - 3, 'y') + "\r\n";
  ASSERT_EQ(parser.Parse(in), Result::kCommand);
  EXPECT_FALSE(parser.in_progress());
  EXPECT_EQ(parser.pending_bulk_len(), 0u);
  ASSERT_EQ(parser.args().size(), 2u);
  EXPECT_EQ(parser.args()[1].size(), 100000u);
  EXPECT_EQ(parser.consumed(), in.size());
}

TEST(RequestParserTest, MultibulkManyArgs) {
  Command cmd = {"MSET"};
  for (int i = 0; i < 3000; ++i) cmd.push_back(std::to_string(i));
  std::string in = Multibulk(cmd);
  ExpectSameOutcome(FeedWhole(in), Commands({cmd}));
  ExpectSameOutcome(FeedBytes(in), Commands({cmd}));
}

TEST(RequestParserTest, MultibulkArgsViewTheInput) {
  RequestParser parser;
  std::string in = "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
  ASSERT_EQ(parser.Parse(in), Result::kCommand);
  ASSERT_EQ(parser.args().size(), 2u);
  EXPECT_EQ(parser.args()[1].data(), in.data() + in.size() - 4);
}

TEST(RequestParserTest, Inline) {
  ExpectChunkingInvariant("PING\r\n", Commands({{"PING"}}));
  ExpectChunkingInvariant("SET  key\tvalue \r\n", Commands({{"SET", "key", "value"}}));
  // A bare LF ends an inline line too.
  ExpectChunkingInvariant("GET k\nGET j\r\n", Commands({{"GET", "k"}, {"GET", "j"}}));
}

TEST(RequestParserTest, InlineDoubleQuotesAndEscapes) {
  std::string in = "SET \"a key\" \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"x\\q\"\r\n";
  ExpectChunkingInvariant(in, Commands({{"SET", "a key", "AJ\n\r\t\b\a\\\"xq"}}));
  // \x needs two hex digits, else it is just 'x'.
  ExpectChunkingInvariant("ECHO \"\\xZZ\\x4\"\r\n", Commands({{"ECHO", "xZZx4"}}));
  // Empty quoted strings are arguments.
  ExpectChunkingInvariant("ECHO \"\" ''\r\n", Commands({{"ECHO", "", ""}}));
  // Quotes may start in the middle of an argument.
  ExpectChunkingInvariant("ECHO ab\"c d\"\r\n", Commands({{"ECHO", "abc d"}}));
}

TEST(RequestParserTest, InlineSingleQuotes) {
  ExpectChunkingInvariant("ECHO 'it\\'s \"x\" \\n'\r\n", Commands({{"ECHO", "it's \"x\" \\n"}}));
}

TEST(RequestParserTest, InlineVerticalTabAndFormFeedStayInUnquotedArgs) {
  // redis-server: "ECHO a\vb" echoes the 3 bytes; leading \v is skipped.
  ExpectChunkingInvariant("ECHO a\vb\r\n", Commands({{"ECHO", "a\vb"}}));
  ExpectChunkingInvariant("ECHO a\fb\r\n", Commands({{"ECHO", "a\fb"}}));
  ExpectChunkingInvariant("ECHO \vab\r\n", Commands({{"ECHO", "ab"}}));
  // A closing quote may be followed by \v (isspace), which is then skipped.
  ExpectChunkingInvariant("ECHO \"a\"\v\r\n", Commands({{"ECHO", "a"}}));
  // A lone CR inside the line separates arguments.
  ExpectChunkingInvariant("ECHO x\rPING\r\n", Commands({{"ECHO", "x", "PING"}}));
}

TEST(RequestParserTest, BlankInlineLinesAreSkipped) {
  ExpectChunkingInvariant("\r\n\n  \r\n\t\nPING\r\n", Commands({{"PING"}}));
  // Only blank lines: nothing to run; they are consumed (dropped) without a command.
  ExpectChunkingInvariant("\r\n\r\n", Commands({}, 0));
}

TEST(RequestParserTest, EmptyMultibulksAreSkipped) {
  ExpectChunkingInvariant("*0\r\n*-1\r\n*-5\r\nPING\r\n", Commands({{"PING"}}));
  ExpectChunkingInvariant("*0\r\n", Commands({}, 0));
  ExpectChunkingInvariant("*-1\r\n", Commands({}, 0));
}

TEST(RequestParserTest, BlankLineFloodIsDroppedWithoutACommand) {
  RequestParser parser;
  std::string in(100000, '\n');
  EXPECT_EQ(parser.Parse(in), Result::kNeedMore);
  EXPECT_EQ(parser.consumed(), in.size());
  in = "\r\n\r\nPI";  // blank lines, then a partial inline command
  EXPECT_EQ(parser.Parse(in), Result::kNeedMore);
  EXPECT_EQ(parser.consumed(), 4u);
  in.erase(0, 4);
  in += "NG\r\n";
  ASSERT_EQ(parser.Parse(in), Result::kCommand);
  EXPECT_EQ(parser.args(), std::vector<std::string_view>{"PING"});
}

TEST(RequestParserTest, SkippedEmptyCommandsAreConsumedEvenMidCommand) {
  RequestParser parser;
  std::string in = "\r\n*0\r\n*1\r\n$4\r\nPI";
  EXPECT_EQ(parser.Parse(in), Result::kNeedMore);
  EXPECT_EQ(parser.consumed(), 6u);  // the blank line and "*0" are dropped already
  in.erase(0, 6);
  in += "NG\r\n";
  ASSERT_EQ(parser.Parse(in), Result::kCommand);
  EXPECT_EQ(parser.consumed(), in.size());
  EXPECT_EQ(parser.args(), std::vector<std::string_view>{"PING"});
  in.erase(0, parser.consumed());
  EXPECT_EQ(parser.Parse(in), Result::kNeedMore);
}

TEST(RequestParserTest, UncheckedTerminators) {
  // Redis skips the two bytes after a bulk payload and after a header's '\r' without checking.
  ExpectChunkingInvariant("*1\r\n$4\r\nPINGxyPING\r\n", Commands({{"PING"}, {"PING"}}));
  ExpectChunkingInvariant("*1\r\n$3\rxfoo\r\n", Commands({{"foo"}}));
}

TEST(RequestParserTest, PipelineMixingEveryKind) {
  std::string binary("\r\n\0$*", 5);
  std::string in;
  in += Multibulk({"SET", "k", "v"});
  in += "PING\r\n";
  in += "\r\n";
  in += "*0\r\n";
  in += Multibulk({"SET", "", binary});
  in += "*-1\r\n";
  in += "ECHO \"a\\x41\\n\" 'b c'\n";
  in += "   \r\n";
  in += Multibulk({"MSET", "a", "1", "b", "2"});
  in += "ECHO a\vb\r\n";
  in += Multibulk({"GET"});
  ExpectChunkingInvariant(in, Commands({{"SET", "k", "v"},
                                        {"PING"},
                                        {"SET", "", binary},
                                        {"ECHO", "aA\n", "b c"},
                                        {"MSET", "a", "1", "b", "2"},
                                        {"ECHO", "a\vb"},
                                        {"GET"}}));
  // Followed by a partial command, which is left over.
  std::string partial = "*2\r\n$3\r\nGET\r\n$5\r\nab";
  ExpectChunkingInvariant(in + partial, Commands(FeedWhole(in).commands, partial.size()));
}

TEST(RequestParserTest, ResetForgetsPartialCommand) {
  RequestParser parser;
  EXPECT_EQ(parser.Parse("*2\r\n$3\r\nGET\r\n$3\r\nk"), Result::kNeedMore);
  EXPECT_TRUE(parser.in_progress());
  parser.Reset();
  EXPECT_FALSE(parser.in_progress());
  ASSERT_EQ(parser.Parse("PING\r\n"), Result::kCommand);
  EXPECT_EQ(parser.args(), std::vector<std::string_view>{"PING"});
}

// ---------------------------------------------------------------------------------------------
// Malformed frames: redis-server 7.0's exact texts (checked by sending the raw bytes to it).

TEST(RequestParserTest, ErrorInvalidMultibulkLength) {
  const char* kText = "Protocol error: invalid multibulk length";
  for (std::string in : {"*x\r\n", "*01\r\n", "*+1\r\n", "* 1\r\n", "*1 \r\n", "*-0\r\n", "*\r\n",
                         "*2147483648\r\n", "*99999999999999999999999\r\n"}) {
    SCOPED_TRACE(in);
    ExpectChunkingInvariant(in, Error({}, kText));
  }
  // INT_MAX itself is accepted (and waits for the elements).
  ExpectChunkingInvariant("*2147483647\r\n", Commands({}, 13));
}

// Before AUTH (Redis's limits): more than 10 arguments or a bulk over 16 KB is refused; the
// limits go once the client has authenticated.
TEST(RequestParserTest, UnauthenticatedLimits) {
  ParserLimits limits;
  limits.unauthenticated = true;
  RequestParser parser(limits);
  EXPECT_EQ(parser.Parse("*11\r\n"), Result::kError);
  EXPECT_EQ(parser.error(), "Protocol error: unauthenticated multibulk length");
  parser.Reset();
  EXPECT_EQ(parser.Parse("*1\r\n$16385\r\n"), Result::kError);
  EXPECT_EQ(parser.error(), "Protocol error: unauthenticated bulk length");
  parser.Reset();
  // An invalid length is reported as such first, as Redis checks it first.
  EXPECT_EQ(parser.Parse("*1\r\n$-5\r\n"), Result::kError);
  EXPECT_EQ(parser.error(), "Protocol error: invalid bulk length");
  parser.Reset();
  std::string ten = "*10\r\n";
  for (int i = 0; i < 10; ++i) ten += "$1\r\na\r\n";
  EXPECT_EQ(parser.Parse(ten), Result::kCommand);
  std::string big = "*2\r\n$4\r\nAUTH\r\n$16384\r\n" + std::string(16384, 'p') + "\r\n";
  EXPECT_EQ(parser.Parse(big), Result::kCommand);
  parser.set_unauthenticated(false);
  EXPECT_EQ(parser.Parse("*11\r\n"), Result::kNeedMore);
  parser.Reset();
  EXPECT_EQ(parser.Parse("*1\r\n$16385\r\n"), Result::kNeedMore);
}

TEST(RequestParserTest, ErrorInvalidBulkLength) {
  const char* kText = "Protocol error: invalid bulk length";
  for (std::string in : {"*1\r\n$x\r\n", "*1\r\n$-1\r\n", "*1\r\n$+3\r\n", "*1\r\n$\r\n",
                         "*1\r\n$03\r\n", "*1\r\n$536870913\r\n"}) {
    SCOPED_TRACE(in);
    ExpectChunkingInvariant(in, Error({}, kText));
  }
  // proto-max-bulk-len (512MB by default) itself is accepted.
  ExpectChunkingInvariant("*1\r\n$536870912\r\n", Commands({}, 16));
  // A lower limit.
  ParserLimits limits;
  limits.max_bulk_len = 10;
  ExpectChunkingInvariant("*1\r\n$11\r\n", Error({}, kText), limits);
  ExpectChunkingInvariant(Multibulk({std::string(10, 'a')}), Commands({{std::string(10, 'a')}}),
                          limits);
}

TEST(RequestParserTest, ErrorExpectedDollar) {
  ExpectChunkingInvariant("*1\r\nx3\r\n", Error({}, "Protocol error: expected '$', got 'x'"));
  ExpectChunkingInvariant("*2\r\n$1\r\na\r\n:1\r\n",
                          Error({}, "Protocol error: expected '$', got ':'"));
  // The check waits for a complete line, as Redis does.
  ExpectChunkingInvariant("*1\r\nx\r", Commands({}, 6));
}

TEST(RequestParserTest, ErrorUnbalancedQuotes) {
  const char* kText = "Protocol error: unbalanced quotes in request";
  for (std::string in : {"set a \"b\r\n", "set \"a\"b\r\n", "set 'a\r\n", "set 'a'b\r\n",
                         "set \"a\\\"\r\n", "set \"a\\\r\n"}) {
    SCOPED_TRACE(in);
    ExpectChunkingInvariant(in, Error({}, kText));
  }
  // Commands before the bad line still come out.
  ExpectChunkingInvariant("PING\r\nset \"x\r\nPING\r\n", Error({{"PING"}}, kText));
}

TEST(RequestParserTest, ErrorTooBigInlineRequest) {
  std::string in = "PING" + std::string(70000, 'x');
  ExpectChunkingInvariant(in, Error({}, "Protocol error: too big inline request"), {}, 4999);
  // Exactly 64KB without a newline still waits.
  EXPECT_EQ(FeedWhole(std::string(64 * 1024, 'x')).error, std::nullopt);
  ParserLimits limits;
  limits.max_inline_len = 8;
  ExpectChunkingInvariant("GET 12345", Error({}, "Protocol error: too big inline request"), limits);
  ExpectChunkingInvariant("GET 1234", Commands({}, 8), limits);
}

TEST(RequestParserTest, ErrorTooBigCountStrings) {
  std::string mbulk = "*" + std::string(70000, '1');
  ExpectChunkingInvariant(mbulk, Error({}, "Protocol error: too big mbulk count string"), {}, 4999);
  std::string bulk = "*1\r\n$" + std::string(70000, '1');
  ExpectChunkingInvariant(bulk, Error({}, "Protocol error: too big bulk count string"), {}, 4999);
}

TEST(RequestParserTest, NulBeforeLineEndWaitsLikeRedis) {
  // redis-server looks for line ends with strchr(), which stops at a NUL: these never complete.
  ExpectChunkingInvariant(std::string("ECHO a\0b\r\n", 10), Commands({}, 10));
  ExpectChunkingInvariant(std::string("*1\0\r\n", 5), Commands({}, 5));
  ExpectChunkingInvariant(std::string("*1\r\n$4\0\r\nPING\r\n", 15), Commands({}, 15));
  // ... until the line limit applies.
  ParserLimits limits;
  limits.max_inline_len = 8;
  ExpectChunkingInvariant(std::string("ECHO a\0b\r\n", 10),
                          Error({}, "Protocol error: too big inline request"), limits);
}

TEST(SplitInlineArgsTest, Cases) {
  std::vector<std::string> args;
  ASSERT_TRUE(SplitInlineArgs("", &args));
  EXPECT_TRUE(args.empty());
  ASSERT_TRUE(SplitInlineArgs(" \t\v\f ", &args));
  EXPECT_TRUE(args.empty());
  ASSERT_TRUE(SplitInlineArgs("a \"b c\" 'd e'", &args));
  EXPECT_EQ(args, (std::vector<std::string>{"a", "b c", "d e"}));
  ASSERT_TRUE(SplitInlineArgs("\"\\x00\\xff\\xFf\"", &args));
  EXPECT_EQ(args, (std::vector<std::string>{std::string("\0\xff\xff", 3)}));
  EXPECT_FALSE(SplitInlineArgs("\"abc", &args));
  EXPECT_FALSE(SplitInlineArgs("'abc", &args));
  EXPECT_FALSE(SplitInlineArgs("\"a\"b", &args));
  EXPECT_FALSE(SplitInlineArgs("'a'b", &args));
  EXPECT_FALSE(SplitInlineArgs("\"a\\\"", &args));
}

// ---------------------------------------------------------------------------------------------
// Seeded random tests.

// Random chunk boundaries over `input`.
std::vector<std::string_view> RandomChunks(std::string_view input, std::mt19937_64& rng) {
  std::vector<std::string_view> chunks;
  size_t max_chunk = 1 + rng() % 64;
  size_t pos = 0;
  while (pos < input.size()) {
    size_t len = 1 + rng() % max_chunk;
    chunks.push_back(input.substr(pos, len));
    pos += chunks.back().size();
  }
  return chunks;
}

std::string RandomBytes(std::mt19937_64& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Appends an inline encoding of `arg` (chosen at random: plain, double or single quoted).
void AppendInlineArg(const std::string& arg, std::mt19937_64& rng, std::string* line) {
  bool plain_ok = !arg.empty();
  for (char c : arg) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != ':' && c != '_') {
      plain_ok = false;
    }
  }
  int kind = rng() % 3;
  if (kind == 0 && plain_ok) {
    *line += arg;
    return;
  }
  bool single_ok = true;
  for (char c : arg) {
    if (c == '\0' || c == '\n' || c == '\\') single_ok = false;
  }
  if (kind == 1 && single_ok) {
    *line += '\'';
    for (char c : arg) {
      if (c == '\'') *line += '\\';
      *line += c;
    }
    *line += '\'';
    return;
  }
  *line += '"';
  static const char kHex[] = "0123456789abcdef";
  for (char c : arg) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      *line += '\\';
      *line += c;
    } else if (c == '\n') {
      *line += "\\n";
    } else if (u >= 0x20 && u < 0x7f) {
      *line += c;
    } else {
      *line += "\\x";
      *line += kHex[u >> 4];
      *line += kHex[u & 15];
    }
  }
  *line += '"';
}

TEST(RequestParserRandomTest, ValidPipelinesParseIdenticallyUnderAnyChunking) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 300; ++round) {
    std::string input;
    std::vector<Command> want;
    size_t last_command_end = 0;
    int frames = 1 + rng() % 12;
    for (int f = 0; f < frames; ++f) {
      switch (rng() % 6) {
        case 0:
        case 1: {  // multibulk with binary args
          Command cmd;
          int n = 1 + rng() % 5;
          for (int i = 0; i < n; ++i) cmd.push_back(RandomBytes(rng, rng() % 8 == 0 ? 3000 : 20));
          input += Multibulk(cmd);
          want.push_back(cmd);
          last_command_end = input.size();
          break;
        }
        case 2:
        case 3: {  // inline
          Command cmd;
          std::string line;
          int n = 1 + rng() % 4;
          for (int i = 0; i < n; ++i) {
            std::string arg =
                rng() % 2 ? RandomBytes(rng, 12) : "arg" + std::to_string(rng() % 100);
            if (i > 0 || rng() % 2) line += rng() % 2 ? " " : "\t ";
            AppendInlineArg(arg, rng, &line);
            cmd.push_back(arg);
          }
          line += rng() % 3 ? " \r\n" : "\n";
          input += line;
          want.push_back(cmd);
          last_command_end = input.size();
          break;
        }
        case 4:  // blank line
          input += rng() % 2 ? "\r\n" : " \t\n";
          break;
        case 5:  // empty multibulk
          input += rng() % 2 ? "*0\r\n" : "*-1\r\n";
          break;
      }
    }
    // Empty frames after the last command are skipped and dropped too.
    (void)last_command_end;
    Outcome expected = Commands(want, 0);
    SCOPED_TRACE("round " + std::to_string(round));
    ExpectSameOutcome(FeedWhole(input), expected);
    for (int chunking = 0; chunking < 5; ++chunking) {
      ExpectSameOutcome(Feed(RandomChunks(input, rng)), expected);
    }
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
}

std::string RandomGarbage(std::mt19937_64& rng) {
  static const char kAlphabet[] = "*$\r\n\r\n0123456789-+ \t\"'\\x:abAB\v";
  std::string s(rng() % 200, '\0');
  for (char& c : s) {
    uint64_t r = rng();
    if (r % 10 == 0) {
      c = static_cast<char>(r >> 8);  // any byte, NUL included
    } else {
      c = kAlphabet[(r >> 8) % (sizeof(kAlphabet) - 1)];
    }
  }
  // Sometimes start with a plausible header so the multibulk path is exercised deeply.
  if (rng() % 2) s = "*" + std::to_string(rng() % 4) + "\r\n$" + std::to_string(rng() % 5) + s;
  return s;
}

TEST(RequestParserRandomTest, GarbageNeverCrashesAndIsChunkingInvariant) {
  std::mt19937_64 rng(77);
  for (int round = 0; round < 3000; ++round) {
    std::string input = RandomGarbage(rng);
    // Inputs are far below every size limit, so the outcome cannot depend on the chunking.
    Outcome whole = FeedWhole(input);
    SCOPED_TRACE("round " + std::to_string(round) + " input " + ::testing::PrintToString(input));
    for (int chunking = 0; chunking < 3; ++chunking) {
      ExpectSameOutcome(Feed(RandomChunks(input, rng)), whole);
    }
    if (whole.error) {
      EXPECT_EQ(whole.error->rfind("Protocol error: ", 0), 0u);
    }
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
}

TEST(RequestParserRandomTest, GarbageWithTinyLimitsEndsCleanly) {
  std::mt19937_64 rng(78);
  ParserLimits limits;
  limits.max_inline_len = 6;
  limits.max_bulk_len = 4;
  limits.max_multibulk_len = 3;
  for (int round = 0; round < 3000; ++round) {
    std::string input = RandomGarbage(rng);
    Outcome out = Feed(RandomChunks(input, rng), limits);
    if (out.error) {
      EXPECT_EQ(out.error->rfind("Protocol error: ", 0), 0u);
    }
    for (const Command& cmd : out.commands) EXPECT_FALSE(cmd.empty());
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
}

}  // namespace
}  // namespace shardis
