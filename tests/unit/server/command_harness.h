// CommandHarness: runs commands against N in-process shards without sockets or threads, routing
// them as the dispatcher does (arity check, keys -> shard, on_shard when all keys share a shard,
// else on_client with fan-out run synchronously). For unit tests of the command families.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_builder.h"
#include "server/client_state.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/shard_data.h"

namespace shardis::testing {

class CommandHarness : public FanOutRunner {
 public:
  explicit CommandHarness(int shards = 1, RespVersion resp = RespVersion::kResp2) {
    for (int i = 0; i < shards; ++i) {
      shards_.push_back(std::make_unique<ShardData>(16));
      shards_.back()->set_placement(i, shards);
    }
    client_.resp = resp;
    SetTime(1'700'000'000'000);
  }

  // Sets every shard's clock (ms since the epoch).
  void SetTime(int64_t now_ms) {
    for (auto& s : shards_) s->clock().now_ms = now_ms;
  }
  void AdvanceTime(int64_t ms) { SetTime(shards_[0]->now_ms() + ms); }
  ClientState& client() { return client_; }
  ShardData& shard(int i) { return *shards_[i]; }
  Config& config() { return config_; }

  // Runs one command and returns its raw RESP reply (fan-out replies included).
  std::string Run(std::vector<std::string> argv) {
    pending_reply_.clear();
    std::string out = RunDirect(argv);
    return out + pending_reply_;
  }

  int shard_count() const override { return static_cast<int>(shards_.size()); }

  void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) override {
    for (int s : shards) {
      ShardData& sd = *shards_[s];
      ShardAccess access{sd, sd.db(client_.db_index), client_.db_index, s, config_};
      task(access);
    }
    // The dispatcher appends the fan-out's reply to the same output, in order.
    ReplyBuilder reply(&pending_reply_, client_.resp);
    done(reply, *this);
  }

 private:
  std::string RunDirect(const std::vector<std::string>& argv) {
    std::vector<std::string_view> args(argv.begin(), argv.end());
    std::string out;
    ReplyBuilder reply(&out, client_.resp);
    const CommandSpec* spec = CommandTable::Get().Find(args[0]);
    if (spec == nullptr) {
      reply.Error(UnknownCommandError(args));
      return out;
    }
    if (!CommandTable::ArityOk(*spec, args.size())) {
      reply.Error(ArityError(spec->name));
      return out;
    }
    std::vector<int> positions;
    CommandTable::KeyPositions(*spec, args, &positions);
    int target = -1;
    bool single = !positions.empty();
    for (int pos : positions) {
      int s = ShardOfKey(args[pos], shard_count());
      if (target == -1) target = s;
      if (s != target) single = false;
    }
    if (spec->on_client != nullptr && spec->prefer_client != nullptr && spec->prefer_client(args)) {
      single = false;
    }
    if (spec->on_shard != nullptr && (single || spec->on_client == nullptr)) {
      if (target < 0) target = 0;
      ShardData& sd = *shards_[target];
      ShardCommand cmd{args, sd, sd.db(client_.db_index), client_.db_index, reply, config_};
      spec->on_shard(cmd);
    } else {
      ClientCommand cmd(args, client_, reply, nullptr, *this);
      spec->on_client(cmd);
    }
    return out;
  }

  std::vector<std::unique_ptr<ShardData>> shards_;
  ClientState client_;
  Config config_;
  std::string pending_reply_;
};

}  // namespace shardis::testing
