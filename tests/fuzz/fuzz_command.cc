// Fuzz target: command execution on shards. The input is a stream of client requests (RESP
// multibulk or inline); each parsed command is routed and run by the CommandHarness of the unit
// tests (3 in-process shards, no sockets, no threads) on a fresh keyspace per input. Invariants:
// no crash or UB, and every command's reply is exactly one valid RESP value (RESP2, or RESP3 for
// inputs of odd length). RESTORE payloads get their checksum fixed, so the RDB decoder is
// fuzzed too.
//
// Only the data commands run (strings, keys, lists, hashes, sets, sorted sets, geo, streams,
// bitmaps, HyperLogLog): connection, server, pub/sub, transaction and scripting commands need a
// reactor (the harness has none) and are covered by the integration tests. A few commands whose
// cost grows with a numeric argument (SETRANGE 500000000, SRANDMEMBER k -100000000...) are
// skipped when it is large: Redis allows those, and they would only make the fuzzer report
// out-of-memory or slow inputs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "protocol/request_parser.h"
#include "server/command.h"
#include "server/command_table.h"
#include "storage/rdb/crc64.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/resp_check.h"
#include "tests/unit/server/command_harness.h"

namespace {

using shardis::CommandSpec;
using shardis::CommandTable;

constexpr size_t kMaxCommands = 64;
constexpr int64_t kMaxCostArgument = 100'000;

bool DataGroup(std::string_view group) {
  for (std::string_view g : {"string", "generic", "list", "hash", "set", "sorted_set", "geo",
                             "stream", "bitmap", "hyperloglog"}) {
    if (group == g) return true;
  }
  return false;
}

// Commands of the data groups that still need a reactor or the process, or block forever.
bool Excluded(std::string_view name) {
  for (std::string_view n : {"wait", "migrate"}) {
    if (name == n) return true;
  }
  return false;
}

// Commands whose memory or time grows with a numeric argument.
bool CostlyWithBigNumbers(std::string_view name) {
  for (std::string_view n : {"setrange", "setbit", "bitfield", "bitfield_ro", "srandmember",
                             "zrandmember", "hrandfield", "spop", "lpop", "rpop", "xautoclaim",
                             "lpos", "xrange", "xrevrange", "xread", "sort", "sort_ro"}) {
    if (name == n) return true;
  }
  return false;
}

bool HasBigNumber(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    int64_t v = 0;
    if (shardis::cmd::ParseInt64(args[i], &v) && (v > kMaxCostArgument || v < -kMaxCostArgument))
      return true;
  }
  return false;
}

bool Runnable(const std::vector<std::string>& args) {
  const CommandSpec* spec = CommandTable::Get().Find(args[0]);
  if (spec == nullptr) return true;  // unknown: the harness replies the error
  if (Excluded(spec->name)) return false;
  if (!DataGroup(spec->group)) return false;
  if (CostlyWithBigNumbers(spec->name) && HasBigNumber(args)) return false;
  return true;
}

// RESTORE payloads end with a version and a CRC64 that a mutation almost always breaks: put the
// right CRC back, so that mutated payloads reach the RDB decoder instead of the checksum error.
void FixRestoreChecksum(std::vector<std::string>* args) {
  if (args->size() < 4 || !shardis::cmd::EqualsIgnoreCase((*args)[0], "restore")) return;
  std::string& payload = (*args)[3];
  if (payload.size() < 10) return;
  uint64_t crc = shardis::rdb::Crc64(0, std::string_view(payload).substr(0, payload.size() - 8));
  for (int i = 0; i < 8; ++i) payload[payload.size() - 8 + i] = static_cast<char>(crc >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  shardis::fuzz::CurrentInput() = in;
  shardis::ParserLimits limits;
  limits.max_bulk_len = 1 << 16;
  limits.max_inline_len = 4096;
  limits.max_multibulk_len = 1024;
  shardis::RequestParser parser(limits);

  shardis::testing::CommandHarness harness(
      3, size % 2 == 1 ? shardis::RespVersion::kResp3 : shardis::RespVersion::kResp2);
  size_t offset = 0;
  static const bool verbose = std::getenv("SHARDIS_FUZZ_VERBOSE") != nullptr;
  for (size_t n = 0; n < kMaxCommands && offset < in.size(); ++n) {
    if (parser.Parse(in.substr(offset)) != shardis::RequestParser::Result::kCommand) break;
    std::vector<std::string> args(parser.args().begin(), parser.args().end());
    offset += parser.consumed();
    if (!Runnable(args)) continue;
    FixRestoreChecksum(&args);
    std::string reply = harness.Run(args);
    FUZZ_CHECK(shardis::fuzz::IsRespSequence(reply, 1), reply.substr(0, 512));
    if (verbose) std::fprintf(stderr, "%s -> %s\n", args[0].c_str(), reply.substr(0, 80).c_str());
    // Let keys with a TTL expire as the input goes on.
    harness.AdvanceTime(997);
  }
  return 0;
}
