// Transaction commands: MULTI, EXEC, DISCARD, WATCH, UNWATCH. They run on the connection's
// thread. Queuing happens in the dispatcher (dispatch.cc), EXEC's execution too
// (ServerContext::ExecTransaction); WATCH registers each key on its shard and remembers the
// version it saw there, which EXEC compares (Db::Watch / Db::WatchVersion).
#include <algorithm>
#include <memory>

#include "server/command_table.h"
#include "server/server_context.h"

namespace shardis {
namespace {

TransactionState& Tx(ClientState& client) {
  if (client.tx == nullptr) client.tx = std::make_shared<TransactionState>();
  return *client.tx;
}

void CmdMulti(ClientCommand& c) {
  if (c.client.in_multi()) {
    c.reply.Error("ERR MULTI calls can not be nested");
    return;
  }
  TransactionState& tx = Tx(c.client);
  tx.in_multi = true;
  tx.aborted = false;
  tx.queue.clear();
  c.reply.Ok();
}

void CmdExec(ClientCommand& c) {
  if (!c.client.in_multi()) {
    c.reply.Error("ERR EXEC without MULTI");
    return;
  }
  c.server->ExecTransaction();
}

void CmdDiscard(ClientCommand& c) {
  if (!c.client.in_multi()) {
    c.reply.Error("ERR DISCARD without MULTI");
    return;
  }
  TransactionState& tx = Tx(c.client);
  tx.in_multi = false;
  tx.aborted = false;
  tx.queue.clear();
  c.server->ReleaseWatches(c.client);
  c.reply.Ok();
}

void CmdWatch(ClientCommand& c) {
  if (c.client.in_multi()) {
    c.reply.Error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  std::shared_ptr<TransactionState> tx = c.client.tx;
  if (tx == nullptr) tx = c.client.tx = std::make_shared<TransactionState>();
  auto watched = std::make_shared<std::vector<TransactionState::Watched>>();
  std::vector<int> shards;
  for (size_t i = 1; i < c.args.size(); ++i) {
    int shard = c.ShardOf(c.args[i]);
    watched->push_back({c.client.db_index, std::string(c.args[i]), shard, 0});
    if (std::find(shards.begin(), shards.end(), shard) == shards.end()) shards.push_back(shard);
  }
  // Each shard registers its keys and records their versions in their own entries.
  c.RunOnShards(
      std::move(shards),
      [watched](ShardAccess& a) {
        for (auto& w : *watched) {
          if (w.shard == a.shard_index) w.version = a.shard.db(w.db).Watch(w.key);
        }
      },
      [watched, tx](ReplyBuilder& reply, FanOutRunner&) {
        tx->watched.insert(tx->watched.end(), watched->begin(), watched->end());
        reply.Ok();
      });
}

void CmdUnwatch(ClientCommand& c) {
  c.server->ReleaseWatches(c.client);
  c.reply.Ok();
}

}  // namespace

void RegisterTransactionCommands(std::vector<CommandSpec>* table) {
  auto add = [table](std::string_view name, int arity, uint32_t flags, int first_key,
                     std::string_view summary, std::string_view since, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.first_key = first_key;
    spec.last_key = first_key > 0 ? -1 : 0;
    spec.key_step = first_key > 0 ? 1 : 0;
    spec.acl_categories = name == "exec" ? "@slow @transaction" : "@fast @transaction";
    spec.group = "transactions";
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  constexpr uint32_t kTx = kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy;
  add("multi", 1, kTx, 0, "Starts a transaction.", "1.2.0", CmdMulti);
  add("exec", 1, kCmdNoscript | kCmdLoading | kCmdStale | kCmdSkipSlowlog, 0,
      "Executes all commands in a transaction.", "1.2.0", CmdExec);
  add("discard", 1, kTx, 0, "Discards a transaction.", "2.0.0", CmdDiscard);
  add("watch", -2, kTx, 1, "Monitors changes to keys to determine the execution of a transaction.",
      "2.2.0", CmdWatch);
  add("unwatch", 1, kTx, 0, "Forgets about watched keys of a transaction.", "2.2.0", CmdUnwatch);
}

}  // namespace shardis
