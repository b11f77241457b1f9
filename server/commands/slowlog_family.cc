// SLOWLOG GET / LEN / RESET / HELP. Runs on the client's thread and visits every thread
// (ForEachThread), since each thread keeps the slow log of the commands it ran (server/slowlog.h).
// Entries logged after the command began (its own entry included, as Redis logs a command only
// once it has run) are left out of GET and kept by RESET.
#include <algorithm>
#include <memory>

#include "server/command_table.h"
#include "server/config.h"
#include "server/server_context.h"
#include "server/slowlog.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

void CmdSlowlog(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

void CmdSlowlogGet(ClientCommand& c) {
  int64_t count = 10;
  if (c.args.size() > 3) {
    c.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '", c.args[1],
                      "'. Try SLOWLOG HELP."));
    return;
  }
  if (c.args.size() == 3) {
    if (!cmd::ParseInt64(c.args[2], &count) || count < -1) {
      c.reply.Error("ERR count should be greater than or equal to -1");
      return;
    }
  }
  int64_t before = PeekSlowlogId();
  // Each thread keeps up to slowlog-max-len entries; the merged log is their newest max-len.
  int64_t max_len = std::max<int64_t>(0, c.server->config().slowlog_max_len);
  size_t limit = static_cast<size_t>(count < 0 ? max_len : std::min(count, max_len));
  auto per_thread = std::make_shared<std::vector<std::vector<SlowlogEntry>>>(c.shard_count());
  c.server->ForEachThread(
      [per_thread, before, limit](ServerContext& ctx) {
        auto& mine = (*per_thread)[ctx.thread_index()];
        for (const SlowlogEntry& e : ctx.slowlog().entries()) {
          if (mine.size() >= limit) break;
          if (e.id < before) mine.push_back(e);
        }
      },
      [per_thread, limit](ReplyBuilder& reply, FanOutRunner&) {
        std::vector<const SlowlogEntry*> all;
        for (const auto& entries : *per_thread) {
          for (const SlowlogEntry& e : entries) all.push_back(&e);
        }
        std::sort(all.begin(), all.end(),
                  [](const SlowlogEntry* a, const SlowlogEntry* b) { return a->id > b->id; });
        if (all.size() > limit) all.resize(limit);
        WriteSlowlogEntries(reply, all);
      });
}

void CmdSlowlogLen(ClientCommand& c) {
  int64_t before = PeekSlowlogId();
  int64_t max_len = std::max<int64_t>(0, c.server->config().slowlog_max_len);
  auto per_thread = std::make_shared<std::vector<size_t>>(c.shard_count());
  c.server->ForEachThread(
      [per_thread, before](ServerContext& ctx) {
        size_t n = 0;
        for (const SlowlogEntry& e : ctx.slowlog().entries()) n += e.id < before;
        (*per_thread)[ctx.thread_index()] = n;
      },
      [per_thread, max_len](ReplyBuilder& reply, FanOutRunner&) {
        size_t total = 0;
        for (size_t n : *per_thread) total += n;
        reply.Integer(std::min(static_cast<int64_t>(total), max_len));
      });
}

void CmdSlowlogReset(ClientCommand& c) {
  int64_t before = PeekSlowlogId();
  c.server->ForEachThread(
      [before](ServerContext& ctx) {
        // Keep what was logged after RESET began (its own entry, as Redis logs it after).
        std::vector<SlowlogEntry> keep;
        for (const SlowlogEntry& e : ctx.slowlog().entries()) {
          if (e.id >= before) keep.push_back(e);
        }
        ctx.slowlog().Reset();
        for (auto it = keep.rbegin(); it != keep.rend(); ++it) {
          ctx.slowlog().Push(std::move(*it), ctx.config().slowlog_max_len);
        }
      },
      [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void CmdSlowlogHelp(ClientCommand& c) {
  static constexpr std::string_view kLines[] = {
      "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET [<count>]",
      "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
      "    Entries are made of:",
      "    id, timestamp, time in microseconds, arguments array, client IP and port,",
      "    client name",
      "LEN",
      "    Return the length of the slowlog.",
      "RESET",
      "    Reset the slowlog.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) c.reply.SimpleString(line);
}

}  // namespace

void RegisterSlowlogCommands(std::vector<CommandSpec>* table) {
  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view summary, std::string_view since, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = acl;
    spec.group = "server";
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  constexpr uint32_t kSub = kCmdAdmin | kCmdLoading | kCmdStale;
  add("slowlog", -2, 0, "@slow", "A container for slow log commands.", "2.2.12", CmdSlowlog);
  add("slowlog|get", -2, kSub, "@admin @slow @dangerous", "Returns the slow log's entries.",
      "2.2.12", CmdSlowlogGet);
  add("slowlog|len", 2, kSub, "@admin @slow @dangerous",
      "Returns the number of entries in the slow log.", "2.2.12", CmdSlowlogLen);
  add("slowlog|reset", 2, kSub, "@admin @slow @dangerous", "Clears all entries from the slow log.",
      "2.2.12", CmdSlowlogReset);
  add("slowlog|help", 2, kCmdLoading | kCmdStale, "@slow",
      "Show helpful text about the different subcommands", "6.2.0", CmdSlowlogHelp);
}

}  // namespace shardis
