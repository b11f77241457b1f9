// Micro-benchmarks for protocol/: RequestParser throughput on pipelined SET frames (32-byte
// values) fed whole or in socket-sized reads, inline commands, and ReplyBuilder encoding speed.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "protocol/reply_builder.h"
#include "protocol/request_parser.h"

namespace shardis {
namespace {

constexpr int kPipelineCommands = 1000;

// kPipelineCommands "SET key:NNNNNNNN <32 bytes>" multibulk frames back to back.
std::string PipelinedSets() {
  std::string out;
  const std::string value(32, 'v');
  char key[32];
  for (int i = 0; i < kPipelineCommands; ++i) {
    int key_len = std::snprintf(key, sizeof(key), "key:%08d", i);
    out += "*3\r\n$3\r\nSET\r\n$" + std::to_string(key_len) + "\r\n";
    out.append(key, key_len);
    out += "\r\n$32\r\n" + value + "\r\n";
  }
  return out;
}

// Parses every command of `input`, presenting it in reads of `read_size` bytes the way a
// connection does (the caller drops consumed bytes; after kNeedMore the window grows).
size_t ParseAll(RequestParser& parser, std::string_view input, size_t read_size) {
  size_t commands = 0;
  size_t start = 0;  // first unconsumed byte
  size_t end = 0;    // bytes "received" so far
  while (end < input.size()) {
    end = std::min(input.size(), end + read_size);
    while (true) {
      RequestParser::Result r = parser.Parse(input.substr(start, end - start));
      if (r != RequestParser::Result::kCommand) break;
      benchmark::DoNotOptimize(parser.args().data());
      start += parser.consumed();
      ++commands;
    }
  }
  return commands;
}

void BM_ParsePipelinedSet(benchmark::State& state) {
  const std::string input = PipelinedSets();
  const size_t read_size = state.range(0) == 0 ? input.size() : state.range(0);
  RequestParser parser;
  for (auto _ : state) {
    size_t n = ParseAll(parser, input, read_size);
    if (n != kPipelineCommands) state.SkipWithError("wrong command count");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(state.iterations() * kPipelineCommands);
}
// 0 = the whole pipeline at once; else the size of each read.
BENCHMARK(BM_ParsePipelinedSet)->Arg(0)->Arg(16 * 1024)->Arg(1460);

void BM_ParseInline(benchmark::State& state) {
  std::string input;
  for (int i = 0; i < kPipelineCommands; ++i)
    input += "SET key:" + std::to_string(i) + " value\r\n";
  RequestParser parser;
  for (auto _ : state) {
    size_t n = ParseAll(parser, input, input.size());
    if (n != kPipelineCommands) state.SkipWithError("wrong command count");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(state.iterations() * kPipelineCommands);
}
BENCHMARK(BM_ParseInline);

void BM_ParseLargeBulk(benchmark::State& state) {
  // One SET with a 1MB value arriving in 16KB reads: the bulk must not be rescanned per read.
  std::string input =
      "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$1048576\r\n" + std::string(1 << 20, 'x') + "\r\n";
  RequestParser parser;
  for (auto _ : state) {
    size_t n = ParseAll(parser, input, 16 * 1024);
    if (n != 1) state.SkipWithError("wrong command count");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_ParseLargeBulk);

// Reply encoding: kPipelineCommands replies of one kind into a reused buffer.
template <typename Fn>
void RunReplies(benchmark::State& state, RespVersion version, Fn fn) {
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    ReplyBuilder rb(&out, version);
    for (int i = 0; i < kPipelineCommands; ++i) fn(rb, i);
    benchmark::DoNotOptimize(out.data());
    bytes += out.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * kPipelineCommands);
}

void BM_ReplyOk(benchmark::State& state) {
  RunReplies(state, RespVersion::kResp2, [](ReplyBuilder& rb, int) { rb.Ok(); });
}
BENCHMARK(BM_ReplyOk);

void BM_ReplyBulk32(benchmark::State& state) {
  const std::string value(32, 'v');
  RunReplies(state, RespVersion::kResp2, [&](ReplyBuilder& rb, int) { rb.Bulk(value); });
}
BENCHMARK(BM_ReplyBulk32);

void BM_ReplyInteger(benchmark::State& state) {
  RunReplies(state, RespVersion::kResp2, [](ReplyBuilder& rb, int i) { rb.Integer(i * 7919); });
}
BENCHMARK(BM_ReplyInteger);

void BM_ReplyMget10(benchmark::State& state) {
  // An MGET of 10 keys, one missing.
  const std::string value(32, 'v');
  RunReplies(state, RespVersion::kResp2, [&](ReplyBuilder& rb, int) {
    rb.ArrayHeader(10);
    for (int k = 0; k < 9; ++k) rb.Bulk(value);
    rb.Null();
  });
}
BENCHMARK(BM_ReplyMget10);

void BM_ReplyDouble(benchmark::State& state) {
  RunReplies(state, static_cast<RespVersion>(state.range(0)),
             [](ReplyBuilder& rb, int i) { rb.Double(i * 0.1); });
}
BENCHMARK(BM_ReplyDouble)->Arg(2)->Arg(3);

void BM_ReplyErrorSanitised(benchmark::State& state) {
  RunReplies(state, RespVersion::kResp2, [](ReplyBuilder& rb, int) {
    rb.Error("ERR wrong number of arguments for 'set' command");
  });
}
BENCHMARK(BM_ReplyErrorSanitised);

}  // namespace
}  // namespace shardis
