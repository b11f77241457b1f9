// Fuzz target: the RESP request parser (protocol/request_parser), multibulk and inline, and the
// RESP reply validator of resp_check.h. Single-threaded. Invariants checked: no crash or UB; the
// same bytes split at different read boundaries yield the same commands and the same error (the
// parser's documented contract, except where Redis too depends on the reads: a line past the
// "too big" limits); consumed() stays within the input; args are never empty.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/request_parser.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/resp_check.h"

namespace {

using shardis::ParserLimits;
using shardis::RequestParser;

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  std::string error;  // empty unless the parser failed
  size_t left = 0;    // bytes left unconsumed at the end (an incomplete command)
};

// Feeds `in` to a fresh parser `chunk` bytes at a time, the way a connection does: the
// unconsumed bytes stay contiguous and grow by each read.
Outcome ParseInChunks(std::string_view in, size_t chunk, const ParserLimits& limits) {
  Outcome out;
  RequestParser parser(limits);
  std::string buf;
  size_t fed = 0;
  while (fed < in.size()) {
    size_t n = std::min(chunk, in.size() - fed);
    buf.append(in.substr(fed, n));
    fed += n;
    while (true) {
      RequestParser::Result r = parser.Parse(buf);
      if (r == RequestParser::Result::kError) {
        FUZZ_CHECK(!parser.error().empty(), "");
        out.error = parser.error();
        return out;
      }
      FUZZ_CHECK(parser.consumed() <= buf.size(), "");
      if (r == RequestParser::Result::kNeedMore) {
        buf.erase(0, parser.consumed());
        break;
      }
      FUZZ_CHECK(parser.consumed() > 0, "a command consumed no bytes");
      FUZZ_CHECK(!parser.args().empty(), "a command with no arguments");
      std::vector<std::string> args;
      for (std::string_view a : parser.args()) args.emplace_back(a);
      out.commands.push_back(std::move(args));
      buf.erase(0, parser.consumed());
    }
  }
  out.left = buf.size();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  shardis::fuzz::CurrentInput() = in;
  // Small limits so that inputs of a few KB reach the "too big" paths too.
  ParserLimits limits;
  limits.max_bulk_len = 1 << 16;
  limits.max_inline_len = 1024;
  limits.max_multibulk_len = 1 << 16;
  // Half of the inputs parse as a client that has yet to authenticate (Redis's tighter limits).
  limits.unauthenticated = size > 0 && (data[0] & 1) != 0;

  Outcome whole = ParseInChunks(in, size == 0 ? 1 : size, limits);
  const size_t chunk = size == 0 ? 1 : 1 + data[size - 1] % 7;
  Outcome pieces = ParseInChunks(in, chunk, limits);
  // As in Redis, a line (inline command, or multibulk/bulk header) longer than the limit is
  // refused only while its end has not arrived ("too big ..."): whole, it may parse. The other
  // outcome then has at least the commands before it.
  auto too_big = [](const Outcome& o) { return o.error.rfind("Protocol error: too big", 0) == 0; };
  if (too_big(whole) || too_big(pieces)) {
    const Outcome& shorter = too_big(pieces) ? pieces : whole;
    const Outcome& other = too_big(pieces) ? whole : pieces;
    FUZZ_CHECK(shorter.commands.size() <= other.commands.size(), "");
    FUZZ_CHECK(std::equal(shorter.commands.begin(), shorter.commands.end(), other.commands.begin()),
               "commands before a too-big line differ with the read size");
  } else {
    FUZZ_CHECK(whole.commands == pieces.commands, "commands differ with the read size");
    FUZZ_CHECK(whole.error == pieces.error, whole.error + " vs " + pieces.error);
    if (whole.error.empty()) FUZZ_CHECK(whole.left == pieces.left, "");
  }

  std::vector<std::string> inline_args;
  (void)shardis::SplitInlineArgs(in, &inline_args);

  // The reply validator: never reads out of bounds, always makes progress.
  size_t pos = 0;
  while (pos < in.size()) {
    size_t before = pos;
    if (!shardis::fuzz::ParseRespValue(in, &pos)) break;
    FUZZ_CHECK(pos > before && pos <= in.size(), "");
  }
  return 0;
}
