// Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB. They run on
// the connection's thread. Subscriptions live in that thread's PubSubRegistry; PUBLISH visits
// every thread (ForEachThread), each delivering to its own subscribers, and replies with the
// total. A publisher's next command waits for that, so its messages arrive in publish order.
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "server/command_table.h"
#include "server/server_context.h"

namespace shardis {
namespace {

int& CountField(ClientState& client, SubKind kind) {
  switch (kind) {
    case SubKind::kChannel:
      return client.subscribed_channels;
    case SubKind::kPattern:
      return client.subscribed_patterns;
    case SubKind::kShardChannel:
      break;
  }
  return client.subscribed_shard_channels;
}

// One "subscribe"-style confirmation: [kind, name, count] as a push (RESP3) or array (RESP2).
void Confirm(ClientCommand& c, std::string_view what, const std::string* name, SubKind kind) {
  c.reply.PushHeader(3);
  c.reply.Bulk(what);
  if (name != nullptr) {
    c.reply.Bulk(*name);
  } else {
    c.reply.Null();
  }
  c.reply.Integer(static_cast<int64_t>(c.server->pubsub().CountOf(c.client.id, kind)));
}

void Subscribe(ClientCommand& c, SubKind kind, std::string_view what) {
  for (size_t i = 1; i < c.args.size(); ++i) {
    std::string name(c.args[i]);
    if (c.server->pubsub().Subscribe(c.client.id, kind, name)) ++CountField(c.client, kind);
    Confirm(c, what, &name, kind);
  }
}

void Unsubscribe(ClientCommand& c, SubKind kind, std::string_view what) {
  std::vector<std::string> names;
  if (c.args.size() > 1) {
    names.assign(c.args.begin() + 1, c.args.end());
  } else {
    names = c.server->pubsub().SubscriptionsOf(c.client.id, kind);
    if (names.empty()) {
      Confirm(c, what, nullptr, kind);
      return;
    }
  }
  for (const std::string& name : names) {
    if (c.server->pubsub().Unsubscribe(c.client.id, kind, name)) --CountField(c.client, kind);
    Confirm(c, what, &name, kind);
  }
}

void CmdSubscribe(ClientCommand& c) { Subscribe(c, SubKind::kChannel, "subscribe"); }
void CmdPSubscribe(ClientCommand& c) { Subscribe(c, SubKind::kPattern, "psubscribe"); }
void CmdSSubscribe(ClientCommand& c) { Subscribe(c, SubKind::kShardChannel, "ssubscribe"); }
void CmdUnsubscribe(ClientCommand& c) { Unsubscribe(c, SubKind::kChannel, "unsubscribe"); }
void CmdPUnsubscribe(ClientCommand& c) { Unsubscribe(c, SubKind::kPattern, "punsubscribe"); }
void CmdSUnsubscribe(ClientCommand& c) { Unsubscribe(c, SubKind::kShardChannel, "sunsubscribe"); }

void Publish(ClientCommand& c, SubKind kind) {
  auto counts = std::make_shared<std::vector<size_t>>(c.server->thread_count());
  auto payload = std::make_shared<const std::pair<std::string, std::string>>(c.args[1], c.args[2]);
  c.server->ForEachThread(
      [counts, payload, kind](ServerContext& ctx) {
        (*counts)[ctx.thread_index()] = ctx.DeliverMessage(kind, payload->first, payload->second);
      },
      [counts](ReplyBuilder& reply, FanOutRunner&) {
        size_t total = 0;
        for (size_t n : *counts) total += n;
        reply.Integer(static_cast<int64_t>(total));
      });
}

void CmdPublish(ClientCommand& c) { Publish(c, SubKind::kChannel); }
void CmdSPublish(ClientCommand& c) { Publish(c, SubKind::kShardChannel); }

void CmdPubSub(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

// PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the union of every thread's channel names.
void ListChannels(ClientCommand& c, SubKind kind) {
  if (c.args.size() > 3) {  // at most one pattern, as Redis
    c.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '", c.args[1],
                      "'. Try PUBSUB HELP."));
    return;
  }
  std::string pattern = c.args.size() > 2 ? std::string(c.args[2]) : std::string();
  auto names = std::make_shared<std::vector<std::vector<std::string>>>(c.server->thread_count());
  c.server->ForEachThread(
      [names, pattern, kind](ServerContext& ctx) {
        (*names)[ctx.thread_index()] = ctx.pubsub().Channels(kind, pattern);
      },
      [names](ReplyBuilder& reply, FanOutRunner&) {
        absl::flat_hash_set<std::string> all;
        std::vector<std::string> ordered;
        for (const auto& part : *names) {
          for (const std::string& name : part) {
            if (all.insert(name).second) ordered.push_back(name);
          }
        }
        reply.ArrayHeader(ordered.size());
        for (const std::string& name : ordered) reply.Bulk(name);
      });
}

// PUBSUB NUMSUB / SHARDNUMSUB [channel...]: a flat array of names and counts (RESP3 too, as
// Redis 7.0).
void NumSub(ClientCommand& c, SubKind kind) {
  auto channels = std::make_shared<std::vector<std::string>>(c.args.begin() + 2, c.args.end());
  auto counts = std::make_shared<std::vector<std::vector<size_t>>>(c.server->thread_count());
  c.server->ForEachThread(
      [channels, counts, kind](ServerContext& ctx) {
        auto& mine = (*counts)[ctx.thread_index()];
        for (const std::string& ch : *channels) mine.push_back(ctx.pubsub().NumSub(kind, ch));
      },
      [channels, counts](ReplyBuilder& reply, FanOutRunner&) {
        reply.ArrayHeader(channels->size() * 2);
        for (size_t i = 0; i < channels->size(); ++i) {
          size_t total = 0;
          for (const auto& part : *counts) total += part[i];
          reply.Bulk((*channels)[i]);
          reply.Integer(static_cast<int64_t>(total));
        }
      });
}

void CmdPubSubChannels(ClientCommand& c) { ListChannels(c, SubKind::kChannel); }
void CmdPubSubShardChannels(ClientCommand& c) { ListChannels(c, SubKind::kShardChannel); }
void CmdPubSubNumSub(ClientCommand& c) { NumSub(c, SubKind::kChannel); }
void CmdPubSubShardNumSub(ClientCommand& c) { NumSub(c, SubKind::kShardChannel); }

void CmdPubSubNumPat(ClientCommand& c) {
  // Redis counts distinct patterns; the same pattern may have subscribers on several threads.
  auto names = std::make_shared<std::vector<std::vector<std::string>>>(c.server->thread_count());
  c.server->ForEachThread(
      [names](ServerContext& ctx) {
        (*names)[ctx.thread_index()] = ctx.pubsub().Channels(SubKind::kPattern, "");
      },
      [names](ReplyBuilder& reply, FanOutRunner&) {
        absl::flat_hash_set<std::string> all;
        for (const auto& part : *names) all.insert(part.begin(), part.end());
        reply.Integer(static_cast<int64_t>(all.size()));
      });
}

void CmdPubSubHelp(ClientCommand& c) {
  static constexpr std::string_view kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      "HELP",
      "    Prints this help."};
  c.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) c.reply.SimpleString(line);
}

}  // namespace

void RegisterPubSubCommands(std::vector<CommandSpec>* table) {
  auto add = [table](std::string_view name, int arity, uint32_t flags, int first_key, int last_key,
                     std::string_view acl, std::string_view summary, std::string_view since,
                     ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.first_key = first_key;
    spec.last_key = last_key;
    spec.key_step = first_key > 0 ? 1 : 0;
    spec.acl_categories = acl;
    spec.group = "pubsub";
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  constexpr uint32_t kSub = kCmdPubsub | kCmdNoscript | kCmdLoading | kCmdStale;
  add("subscribe", -2, kSub, 0, 0, "@pubsub @slow", "Listens for messages published to channels.",
      "2.0.0", CmdSubscribe);
  add("unsubscribe", -1, kSub, 0, 0, "@pubsub @slow",
      "Stops listening to messages posted to channels.", "2.0.0", CmdUnsubscribe);
  add("psubscribe", -2, kSub, 0, 0, "@pubsub @slow",
      "Listens for messages published to channels that match one or more patterns.", "2.0.0",
      CmdPSubscribe);
  add("punsubscribe", -1, kSub, 0, 0, "@pubsub @slow",
      "Stops listening to messages published to channels that match one or more patterns.", "2.0.0",
      CmdPUnsubscribe);
  add("ssubscribe", -2, kSub, 1, -1, "@pubsub @slow",
      "Listens for messages published to shard channels.", "7.0.0", CmdSSubscribe);
  add("sunsubscribe", -1, kSub, 1, -1, "@pubsub @slow",
      "Stops listening to messages posted to shard channels.", "7.0.0", CmdSUnsubscribe);
  constexpr uint32_t kPub = kCmdPubsub | kCmdLoading | kCmdStale | kCmdFast | kCmdMayReplicate;
  add("publish", 3, kPub, 0, 0, "@pubsub @fast", "Posts a message to a channel.", "2.0.0",
      CmdPublish);
  add("spublish", 3, kPub, 1, 1, "@pubsub @fast", "Post a message to a shard channel", "7.0.0",
      CmdSPublish);
  add("pubsub", -2, 0, 0, 0, "@slow", "A container for Pub/Sub commands.", "2.8.0", CmdPubSub);
  constexpr uint32_t kInfo = kCmdPubsub | kCmdLoading | kCmdStale;
  add("pubsub|channels", -2, kInfo, 0, 0, "@pubsub @slow", "Returns the active channels.", "2.8.0",
      CmdPubSubChannels);
  add("pubsub|numsub", -2, kInfo, 0, 0, "@pubsub @slow",
      "Returns a count of subscribers to channels.", "2.8.0", CmdPubSubNumSub);
  add("pubsub|numpat", 2, kInfo, 0, 0, "@pubsub @slow",
      "Returns a count of unique pattern subscriptions.", "2.8.0", CmdPubSubNumPat);
  add("pubsub|shardchannels", -2, kInfo, 0, 0, "@pubsub @slow",
      "Returns the active shard channels.", "7.0.0", CmdPubSubShardChannels);
  add("pubsub|shardnumsub", -2, kInfo, 0, 0, "@pubsub @slow",
      "Returns the count of subscribers of shard channels.", "7.0.0", CmdPubSubShardNumSub);
  add("pubsub|help", 2, kCmdLoading | kCmdStale, 0, 0, "@slow",
      "Returns helpful text about the different subcommands.", "6.2.0", CmdPubSubHelp);
}

}  // namespace shardis
