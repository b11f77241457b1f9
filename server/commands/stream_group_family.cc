// The stream consumer-group commands: XGROUP (CREATE, CREATECONSUMER, DELCONSUMER, DESTROY,
// SETID, HELP), XREADGROUP (with BLOCK), XACK, XPENDING, XCLAIM, XAUTOCLAIM, and the group parts
// of XINFO, with redis-server 7.0's semantics, reply types and error texts. The group data lives
// in storage/stream_groups.h, owned by the StreamValue.
//
// Every handler runs on the thread of the shard owning its keys. XREADGROUP's keys follow its
// STREAMS keyword (a key finder tells the dispatcher). With keys on one shard it runs there; a
// blocked XREADGROUP is re-run when one of its keys is signalled (XADD, XGROUP DESTROY, a
// deletion or overwrite): it then serves new entries, or replies the error Redis gives when the
// group or the key went away, or keeps waiting. With keys on several shards its on_client
// handler runs atomically over them, and if it blocks and finds nothing it waits as a
// cross-shard blocking command whose tries are the one-key re-run above
// (ServerContext::BlockAcrossShards).
#include "server/commands/stream_group_family.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/client_state.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/server_context.h"
#include "storage/db.h"
#include "storage/stream_groups.h"
#include "storage/stream_value.h"
#include "storage/value.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

constexpr std::string_view kInvalidIdErr =
    "ERR Invalid stream ID specified as stream command argument";

// The only places that look inside a keyspace Entry.
struct StreamLookup {
  StreamValue* stream = nullptr;  // null when the key is missing (or not a stream)
  bool wrong_type = false;
};
// for_write: Redis's lookupKeyWrite (no hit/miss statistics, the access time is updated); else
// lookupKeyRead.
StreamLookup LookupStream(Db& db, std::string_view key, bool for_write) {
  Entry* e = for_write ? db.Find(key) : db.Lookup(key);
  if (e == nullptr) return {};
  if (for_write) e->set_access_time(db.now_ms());
  if (e->type() != ValueType::kStream) return {nullptr, true};
  return {e->As<StreamValue>(), false};
}
StreamValue* CreateStream(Db& db, std::string_view key, int64_t now_ms) {
  bool inserted = false;
  Entry* e = db.FindOrInsert(key, &inserted);
  db.Assign(e, Value::OfCollection(ValueType::kStream, std::make_unique<StreamValue>()));
  e->set_access_time(now_ms);
  return e->As<StreamValue>();
}

// ---------------------------------------------------------------------------------------------
// Replies.

void WriteEntry(ReplyBuilder& reply, StreamId id, const std::vector<std::string_view>& fv) {
  reply.ArrayHeader(2);
  reply.Bulk(id.ToString());
  reply.BulkArray(fv.data(), fv.size());
}

// One entry as [id, [field, value...]]; false (nothing written) when it is not in the stream.
bool WriteEntryById(ReplyBuilder& reply, const StreamValue& s, StreamId id) {
  StreamValue::Iterator it(s, id, id, false);
  StreamId found;
  std::vector<std::string_view> fv;
  if (!it.Next(&found, &fv)) return false;
  WriteEntry(reply, found, fv);
  return true;
}

void NoGroupError(ReplyBuilder& reply, std::string_view key, std::string_view group) {
  reply.Error(Cat("NOGROUP No such key '", key, "' or consumer group '", group, "'"));
}

// ---------------------------------------------------------------------------------------------
// XGROUP

constexpr std::string_view kXgroupHelp[] = {
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
};

// The key finder: every XGROUP subcommand but HELP names the key as its first argument.
void XgroupKeys(ArgList args, std::vector<int>* positions) {
  if (args.size() >= 3 && !EqualsIgnoreCase(args[1], "help")) positions->push_back(2);
}

void SubcommandSyntaxError(ShardCommand& cmd) {
  cmd.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '",
                      cmd.args[1].substr(0, 128), "'. Try XGROUP HELP."));
}

bool ParseEntriesRead(ShardCommand& cmd, std::string_view text, int64_t* out) {
  if (!cmd::ParseInt64(text, out)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return false;
  }
  if (*out < 0 && *out != kInvalidEntriesRead) {
    cmd.reply.Error("ERR value for ENTRIESREAD must be positive or -1");
    return false;
  }
  return true;
}

void XgroupCommand(ShardCommand& cmd) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(cmd.args, cmd.reply);
  if (sub == nullptr) return;
  const ArgList args = cmd.args;
  const size_t argc = args.size();
  if (sub->name == "xgroup|help") {
    cmd.reply.ArrayHeader(1 + std::size(kXgroupHelp));
    cmd.reply.SimpleString(
        Cat(cmd::ToUpper(args[0]), " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    for (std::string_view line : kXgroupHelp) cmd.reply.SimpleString(line);
    return;
  }
  const bool create = sub->name == "xgroup|create";
  const bool setid = sub->name == "xgroup|setid";
  bool mkstream = false;
  int64_t entries_read = kInvalidEntriesRead;
  if (create || setid) {
    for (size_t i = 5; i < argc;) {
      if (create && EqualsIgnoreCase(args[i], "mkstream")) {
        mkstream = true;
        ++i;
      } else if (EqualsIgnoreCase(args[i], "entriesread") && i + 1 < argc) {
        if (!ParseEntriesRead(cmd, args[i + 1], &entries_read)) return;
        i += 2;
      } else {
        SubcommandSyntaxError(cmd);
        return;
      }
    }
  }
  std::string_view key = args[2];
  std::string_view name = args[3];
  StreamLookup found = LookupStream(cmd.db, key, true);
  if (found.wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  StreamValue* s = found.stream;
  if (s == nullptr && !(create && mkstream)) {
    cmd.reply.Error(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
        "to use the MKSTREAM option to create an empty stream automatically.");
    return;
  }
  StreamGroup* group = s != nullptr ? s->groups().Find(name) : nullptr;
  const bool destroy = sub->name == "xgroup|destroy";
  if (group == nullptr && !create && !destroy) {
    cmd.reply.Error(Cat("NOGROUP No such consumer group '", name, "' for key name '", key, "'"));
    return;
  }
  if (create) {
    if (argc > 8) {
      SubcommandSyntaxError(cmd);
      return;
    }
    StreamId id;
    if (args[4] == "$") {
      if (s != nullptr) id = s->last_id();
    } else if (!ParseStreamId(args[4], true, 0, &id)) {
      cmd.reply.Error(kInvalidIdErr);
      return;
    }
    if (s == nullptr) s = CreateStream(cmd.db, key, cmd.now_ms());
    if (s->groups().Create(name, id, entries_read) == nullptr) {
      cmd.reply.Error("BUSYGROUP Consumer Group name already exists");
      return;
    }
    cmd.reply.Ok();
    NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-create", key);
  } else if (setid) {
    if (argc != 5 && argc != 7) {
      SubcommandSyntaxError(cmd);
      return;
    }
    StreamId id;
    if (args[4] == "$") {
      id = s->last_id();
    } else if (!ParseStreamId(args[4], false, 0, &id)) {
      cmd.reply.Error(kInvalidIdErr);
      return;
    }
    group->last_id = id;
    group->entries_read = entries_read;
    cmd.reply.Ok();
    NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-setid", key);
  } else if (destroy) {
    if (group == nullptr) {
      cmd.reply.Integer(0);
      return;
    }
    s->groups().Destroy(name);
    cmd.reply.Integer(1);
    NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-destroy", key);
    // Clients blocked in XREADGROUP on this group get their NOGROUP error.
    cmd.db.SignalKeyReady(key);
  } else if (sub->name == "xgroup|createconsumer") {
    bool created = group->CreateConsumer(args[4], cmd.now_ms()) != nullptr;
    cmd.reply.Integer(created ? 1 : 0);
    if (created) NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-createconsumer", key);
  } else {  // delconsumer
    int64_t pending = 0;
    if (StreamConsumer* c = group->FindConsumer(args[4])) {
      pending = static_cast<int64_t>(c->pel.size());
      group->DeleteConsumer(c);
      cmd.reply.Integer(pending);
      NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-delconsumer", key);
      return;
    }
    cmd.reply.Integer(pending);
  }
}

// ---------------------------------------------------------------------------------------------
// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key... id...

void XreadGroupKeys(ArgList args, std::vector<int>* positions) {
  StreamReadArgs parsed;
  std::string error;
  if (!ParseStreamRead(args, true, &parsed, &error)) return;
  for (size_t i = 0; i < parsed.streams; ++i) {
    positions->push_back(static_cast<int>(parsed.streams_at + i));
  }
}

void ReadHeader(ReplyBuilder& reply, size_t n) {
  if (reply.resp3()) {
    reply.MapHeader(n);
  } else {
    reply.ArrayHeader(n);
  }
}

// Redis's streamReplyWithRange for a group reading new entries: the entries after the group's
// last ID, each recorded in the PEL (unless NOACK), moving the group's last ID.
void ReplyNewEntries(ReplyBuilder& reply, StreamValue& s, StreamGroup* group,
                     StreamConsumer* consumer, uint64_t count, bool noack, int64_t now_ms) {
  StreamId start = group->last_id;
  start.Incr();
  std::string body;
  ReplyBuilder entries(&body, reply.version());
  std::vector<StreamId> delivered;
  {
    StreamValue::Iterator it(s, start, StreamId::Max(), false);
    StreamId id;
    std::vector<std::string_view> fv;
    while ((count == 0 || delivered.size() < count) && it.Next(&id, &fv)) {
      s.AdvanceGroup(group, id);
      WriteEntry(entries, id, fv);
      delivered.push_back(id);
    }
  }
  if (!noack) {
    for (StreamId id : delivered) group->Deliver(id, consumer, now_ms);
  }
  reply.ArrayHeader(delivered.size());
  reply.Raw(body);
}

// Redis's streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from `start`
// (deleted entries as [id, nil]), each counted as delivered again.
void ReplyHistory(ReplyBuilder& reply, const StreamValue& s, StreamConsumer* consumer,
                  StreamGroup* group, StreamId start, uint64_t count, int64_t now_ms) {
  std::string body;
  ReplyBuilder entries(&body, reply.version());
  size_t n = 0;
  for (auto it = consumer->pel.lower_bound(start);
       it != consumer->pel.end() && (count == 0 || n < count); ++it) {
    if (!WriteEntryById(entries, s, *it)) {
      entries.ArrayHeader(2);
      entries.Bulk(it->ToString());
      entries.NullArray();
    } else {
      StreamNack* nack = group->FindNack(*it);
      nack->delivery_time = now_ms;
      ++nack->delivery_count;
    }
    ++n;
  }
  reply.ArrayHeader(n);
  reply.Raw(body);
}

std::vector<std::string> UniqueKeys(ArgList keys) {
  std::vector<std::string> out;
  for (std::string_view k : keys) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.emplace_back(k);
  }
  return out;
}

// The re-run of a blocked XREADGROUP (Redis's serveClientsBlockedOnStreamKey and
// unblockDeletedStreamReadgroupClients): serves the first stream with entries past its group's
// last ID, or replies an error when a stream or its group went away, or keeps waiting.
void ServeBlockedReadGroup(ShardCommand& cmd, const StreamReadArgs& parsed) {
  ArgList keys = cmd.args.subspan(parsed.streams_at, parsed.streams);
  for (size_t i = 0; i < parsed.streams; ++i) {
    StreamLookup found = LookupStream(cmd.db, keys[i], true);
    if (found.stream == nullptr) {
      cmd.reply.Error("UNBLOCKED the stream key no longer exists");
      return;
    }
    StreamValue* s = found.stream;
    StreamGroup* group = s->groups().Find(parsed.group);
    if (group == nullptr) {
      cmd.reply.Error("NOGROUP the consumer group this client was blocked on no longer exists");
      return;
    }
    if (s->last_id() <= group->last_id) continue;
    bool created;
    StreamConsumer* consumer = group->FindOrCreateConsumer(parsed.consumer, cmd.now_ms(), &created);
    if (created) NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-createconsumer", keys[i]);
    consumer->seen_time = cmd.now_ms();
    ReadHeader(cmd.reply, 1);
    if (!cmd.reply.resp3()) cmd.reply.ArrayHeader(2);
    cmd.reply.Bulk(keys[i]);
    ReplyNewEntries(cmd.reply, *s, group, consumer, parsed.count == 0 ? 1000 : parsed.count,
                    parsed.noack, cmd.now_ms());
    return;
  }
  if (!cmd.Block(UniqueKeys(keys), 0, TimeoutReply::kNullArray)) cmd.reply.NullArray();
}

// The ID part of the check (shard-independent).
std::string CheckReadGroupId(std::string_view id_arg, StreamId* id) {
  if (id_arg == "$") {
    return "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
           "history of this consumer by specifying a proper ID, or use the > ID to get new "
           "messages. The $ ID would just return an empty result set.";
  }
  *id = StreamId::Max();
  if (id_arg == ">") return {};
  if (!ParseStreamId(id_arg, true, 0, id)) return std::string(kInvalidIdErr);
  return {};
}

// Checks one key of an XREADGROUP as Redis does, in this order: the key's type, the group, then
// the ID ("$" refused, ">" as StreamId::Max()). Returns an empty string, or the error.
std::string CheckReadGroupKey(Db& db, const StreamReadArgs& parsed, std::string_view key,
                              std::string_view id_arg, StreamId* id) {
  StreamLookup found = LookupStream(db, key, false);
  if (found.wrong_type) return std::string(cmd::kWrongTypeErr);
  if (found.stream == nullptr || found.stream->groups().Find(parsed.group) == nullptr) {
    return Cat("NOGROUP No such key '", key, "' or consumer group '", parsed.group,
               "' in XREADGROUP with GROUP option");
  }
  return CheckReadGroupId(id_arg, id);
}

// Serves one checked key into `out` ([key, entries], or the key and entries of a RESP3 map
// entry): the consumer's history for an ID, or new entries for ">" when there are some. Returns
// whether it wrote anything.
bool ServeReadGroupKey(Db& db, const StreamReadArgs& parsed, std::string_view key, StreamId id,
                       int64_t now_ms, ReplyBuilder& out) {
  StreamValue* s = LookupStream(db, key, true).stream;
  StreamGroup* group = s->groups().Find(parsed.group);
  const bool history = id != StreamId::Max();
  if (!history && (s->size() == 0 || s->last_valid_id() <= group->last_id)) return false;
  bool created;
  StreamConsumer* consumer = group->FindOrCreateConsumer(parsed.consumer, now_ms, &created);
  if (created) db.Notify(kNotifyStream, "xgroup-createconsumer", key);
  consumer->seen_time = now_ms;
  if (!out.resp3()) out.ArrayHeader(2);
  out.Bulk(key);
  if (history) {
    StreamId start = id;
    start.Incr();
    ReplyHistory(out, *s, consumer, group, start, parsed.count, now_ms);
  } else {
    ReplyNewEntries(out, *s, group, consumer, parsed.count, parsed.noack, now_ms);
  }
  return true;
}

void XreadGroupCommand(ShardCommand& cmd) {
  StreamReadArgs parsed;
  std::string error;
  if (!ParseStreamRead(cmd.args, true, &parsed, &error, cmd.from_script)) {
    cmd.reply.Error(error);
    return;
  }
  if (cmd.retrying) {
    ServeBlockedReadGroup(cmd, parsed);
    return;
  }
  const size_t n = parsed.streams;
  ArgList keys = cmd.args.subspan(parsed.streams_at, n);
  ArgList id_args = cmd.args.subspan(parsed.streams_at + n, n);
  std::vector<StreamId> ids(n);
  for (size_t i = 0; i < n; ++i) {
    error = CheckReadGroupKey(cmd.db, parsed, keys[i], id_args[i], &ids[i]);
    if (!error.empty()) {
      cmd.reply.Error(error);
      return;
    }
  }
  std::string body;
  ReplyBuilder out(&body, cmd.reply.version());
  size_t served = 0;
  for (size_t i = 0; i < n; ++i) {
    if (ServeReadGroupKey(cmd.db, parsed, keys[i], ids[i], cmd.now_ms(), out)) ++served;
  }
  if (served > 0) {
    ReadHeader(cmd.reply, served);
    cmd.reply.Raw(body);
    return;
  }
  if (!parsed.block) {
    cmd.reply.NullArray();
    return;
  }
  int64_t deadline = 0;  // BLOCK 0: forever; a deadline past int64 also never comes (as Redis)
  if (parsed.timeout_ms > 0 && parsed.timeout_ms <= INT64_MAX - cmd.now_ms()) {
    deadline = cmd.now_ms() + parsed.timeout_ms;
  }
  if (!cmd.Block(UniqueKeys(keys), deadline, TimeoutReply::kNullArray)) cmd.reply.NullArray();
}

// XREADGROUP whose keys span shards (the dispatcher runs this atomically over its keys): each
// shard first checks its keys; if none fails (the first failing key in argument order decides
// the error, as in Redis), each shard serves its keys and the reply is merged in key order. A
// blocking one that serves nothing (only ">" IDs, no new entries) then waits across shards.
void XreadGroupOnClient(ClientCommand& c) {
  StreamReadArgs parsed;
  std::string error;
  if (!ParseStreamRead(c.args, true, &parsed, &error)) {
    c.reply.Error(error);
    return;
  }
  struct KeyResult {
    size_t index;
    std::string error;
    std::string body;  // the key's part of the reply; empty when it served nothing
  };
  struct State {
    std::vector<std::string> args;
    StreamReadArgs parsed;  // its views point into `args`
    RespVersion resp;
    int shard_count;
    std::vector<int> shards;
    std::vector<std::vector<KeyResult>> per_shard;  // one slot per shard
    bool block_across = false;  // BLOCK over keys of several shards, outside MULTI and scripts
    uint64_t conn_id = 0;
    ServerContext* server = nullptr;
  };
  auto st = std::make_shared<State>();
  st->args.assign(c.args.begin(), c.args.end());
  std::vector<std::string_view> views(st->args.begin(), st->args.end());
  ParseStreamRead(views, true, &st->parsed, &error);
  st->resp = c.reply.version();
  st->shard_count = c.shard_count();
  st->per_shard.resize(c.shard_count());
  const size_t n = st->parsed.streams;
  for (size_t i = 0; i < n; ++i) {
    int shard = c.ShardOf(st->args[st->parsed.streams_at + i]);
    if (std::find(st->shards.begin(), st->shards.end(), shard) == st->shards.end()) {
      st->shards.push_back(shard);
    }
  }
  st->block_across = parsed.block && st->shards.size() > 1 && c.may_block_across_shards;
  st->conn_id = c.client.id;
  st->server = c.server;
  // Runs `serve` (false: check) for this shard's keys, in argument order.
  auto phase = [st](bool serve) {
    return [st, serve](ShardAccess& a) {
      std::vector<KeyResult>& out = st->per_shard[a.shard_index];
      out.clear();
      const StreamReadArgs& p = st->parsed;
      const size_t n = p.streams;
      for (size_t i = 0; i < n; ++i) {
        std::string_view key = st->args[p.streams_at + i];
        if (ShardOfKey(key, st->shard_count) != a.shard_index) continue;
        KeyResult r{i, {}, {}};
        StreamId id;
        r.error = CheckReadGroupKey(a.db, p, key, st->args[p.streams_at + n + i], &id);
        if (serve && r.error.empty()) {
          ReplyBuilder body(&r.body, st->resp);
          ServeReadGroupKey(a.db, p, key, id, a.shard.now_ms(), body);
        }
        out.push_back(std::move(r));
      }
    };
  };
  auto sorted = [st] {
    std::vector<const KeyResult*> results;
    for (const auto& slot : st->per_shard) {
      for (const KeyResult& r : slot) results.push_back(&r);
    }
    std::sort(results.begin(), results.end(),
              [](const KeyResult* x, const KeyResult* y) { return x->index < y->index; });
    return results;
  };
  // Nothing served and BLOCK: the client waits for the first key with new entries, trying each
  // key with the one-key form of the command (only ">" IDs get here).
  auto wait_across = [st] {
    const StreamReadArgs& p = st->parsed;
    std::vector<std::string> keys;
    std::vector<std::vector<std::string>> tries;
    for (size_t i = 0; i < p.streams; ++i) {
      keys.emplace_back(st->args[p.streams_at + i]);
      std::vector<std::string> one = {"xreadgroup", "GROUP", std::string(p.group),
                                      std::string(p.consumer)};
      if (p.count > 0) one.insert(one.end(), {"COUNT", std::to_string(p.count)});
      if (p.noack) one.emplace_back("NOACK");
      one.insert(one.end(), {"STREAMS", keys.back(), ">"});
      tries.push_back(std::move(one));
    }
    st->server->BlockAcrossShards(st->conn_id, std::move(keys), std::move(tries), p.timeout_ms);
  };
  c.RunOnShards(st->shards, phase(false),
                [st, phase, sorted, wait_across](ReplyBuilder& reply, FanOutRunner& runner) {
                  for (const KeyResult* r : sorted()) {
                    if (!r->error.empty()) {
                      reply.Error(r->error);
                      return;
                    }
                  }
                  runner.RunOnShards(st->shards, phase(true),
                                     [st, sorted, wait_across](ReplyBuilder& reply, FanOutRunner&) {
                                       std::vector<const KeyResult*> results = sorted();
                                       size_t served = 0;
                                       for (const KeyResult* r : results) {
                                         if (!r->body.empty()) ++served;
                                       }
                                       if (served == 0 && st->block_across) {
                                         wait_across();
                                         return;
                                       }
                                       if (served == 0) {
                                         reply.NullArray();
                                         return;
                                       }
                                       ReadHeader(reply, served);
                                       for (const KeyResult* r : results) reply.Raw(r->body);
                                     });
                });
}

// ---------------------------------------------------------------------------------------------
// XACK key group id [id ...]

void XackCommand(ShardCommand& cmd) {
  StreamLookup found = LookupStream(cmd.db, cmd.args[1], false);
  if (found.wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  StreamGroup* group = found.stream != nullptr ? found.stream->groups().Find(cmd.args[2]) : nullptr;
  if (group == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  std::vector<StreamId> ids(cmd.args.size() - 3);
  for (size_t j = 3; j < cmd.args.size(); ++j) {
    if (!ParseStreamId(cmd.args[j], true, 0, &ids[j - 3])) {
      cmd.reply.Error(kInvalidIdErr);
      return;
    }
  }
  int64_t acked = 0;
  for (StreamId id : ids) acked += group->Ack(id) ? 1 : 0;
  cmd.reply.Integer(acked);
}

// ---------------------------------------------------------------------------------------------
// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]

// An interval bound: "-", "+", an ID, or "(" and an ID (exclusive).
bool ParseIntervalId(std::string_view text, uint64_t missing_seq, StreamId* id, bool* exclude) {
  *exclude = text.size() > 1 && text[0] == '(';
  if (*exclude) return ParseStreamId(text.substr(1), true, missing_seq, id);
  return ParseStreamId(text, false, missing_seq, id);
}

void XpendingCommand(ShardCommand& cmd) {
  const ArgList args = cmd.args;
  const size_t argc = args.size();
  const bool summary = argc == 3;
  if (argc != 3 && (argc < 6 || argc > 9)) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  StreamId start, end;
  int64_t count = 0, min_idle = 0;
  std::string_view consumer_name;
  bool with_consumer = false;
  if (argc >= 6) {
    size_t at = 3;
    if (EqualsIgnoreCase(args[3], "idle")) {
      if (!cmd::ParseInt64(args[4], &min_idle)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (argc < 8) {
        cmd.reply.Error(cmd::kSyntaxErr);
        return;
      }
      at += 2;
    }
    if (!cmd::ParseInt64(args[at + 2], &count)) {
      cmd.reply.Error(cmd::kNotIntErr);
      return;
    }
    if (count < 0) count = 0;
    bool exclude;
    if (!ParseIntervalId(args[at], 0, &start, &exclude)) {
      cmd.reply.Error(kInvalidIdErr);
      return;
    }
    if (exclude && !start.Incr()) {
      cmd.reply.Error("ERR invalid start ID for the interval");
      return;
    }
    if (!ParseIntervalId(args[at + 1], UINT64_MAX, &end, &exclude)) {
      cmd.reply.Error(kInvalidIdErr);
      return;
    }
    if (exclude && !end.Decr()) {
      cmd.reply.Error("ERR invalid end ID for the interval");
      return;
    }
    if (at + 3 < argc) {
      consumer_name = args[at + 3];
      with_consumer = true;
    }
  }
  StreamLookup found = LookupStream(cmd.db, args[1], false);
  if (found.wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  StreamGroup* group = found.stream != nullptr ? found.stream->groups().Find(args[2]) : nullptr;
  if (group == nullptr) {
    NoGroupError(cmd.reply, args[1], args[2]);
    return;
  }
  ReplyBuilder& reply = cmd.reply;
  if (summary) {
    reply.ArrayHeader(4);
    reply.Integer(static_cast<int64_t>(group->pel.size()));
    if (group->pel.empty()) {
      reply.Null();
      reply.Null();
      reply.NullArray();
      return;
    }
    reply.Bulk(group->pel.begin()->first.ToString());
    reply.Bulk(group->pel.rbegin()->first.ToString());
    size_t with_pending = 0;
    for (const auto& [name, c] : group->consumers) with_pending += c->pel.empty() ? 0 : 1;
    reply.ArrayHeader(with_pending);
    for (const auto& [name, c] : group->consumers) {
      if (c->pel.empty()) continue;
      reply.ArrayHeader(2);
      reply.Bulk(name);
      reply.Bulk(std::to_string(c->pel.size()));
    }
    return;
  }
  const StreamConsumer* consumer = nullptr;
  if (with_consumer) {
    consumer = group->FindConsumer(consumer_name);
    if (consumer == nullptr) {
      reply.ArrayHeader(0);
      return;
    }
  }
  const int64_t now = cmd.now_ms();
  std::string body;
  ReplyBuilder items(&body, reply.version());
  size_t n = 0;
  auto emit = [&](StreamId id, const StreamNack& nack) {
    if (min_idle != 0 && now - nack.delivery_time < min_idle) return;
    ++n;
    --count;
    items.ArrayHeader(4);
    items.Bulk(id.ToString());
    items.Bulk(nack.consumer->name);
    items.Integer(std::max<int64_t>(0, now - nack.delivery_time));
    items.Integer(static_cast<int64_t>(nack.delivery_count));
  };
  if (consumer != nullptr) {
    for (auto it = consumer->pel.lower_bound(start);
         count > 0 && it != consumer->pel.end() && *it <= end; ++it) {
      emit(*it, group->pel.find(*it)->second);
    }
  } else {
    for (auto it = group->pel.lower_bound(start);
         count > 0 && it != group->pel.end() && it->first <= end; ++it) {
      emit(it->first, it->second);
    }
  }
  reply.ArrayHeader(n);
  reply.Raw(body);
}

// ---------------------------------------------------------------------------------------------
// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms] [RETRYCOUNT n]
//   [FORCE] [JUSTID] [LASTID id]

void XclaimCommand(ShardCommand& cmd) {
  const ArgList args = cmd.args;
  const size_t argc = args.size();
  StreamLookup found = LookupStream(cmd.db, args[1], false);
  if (found.wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  StreamValue* s = found.stream;
  StreamGroup* group = s != nullptr ? s->groups().Find(args[2]) : nullptr;
  if (group == nullptr) {
    NoGroupError(cmd.reply, args[1], args[2]);
    return;
  }
  int64_t min_idle;
  if (!cmd::ParseInt64(args[4], &min_idle)) {
    cmd.reply.Error("ERR Invalid min-idle-time argument for XCLAIM");
    return;
  }
  if (min_idle < 0) min_idle = 0;
  std::vector<StreamId> ids;
  size_t j = 5;
  for (; j < argc; ++j) {
    StreamId id;
    if (!ParseStreamId(args[j], true, 0, &id)) break;
    ids.push_back(id);
  }
  const int64_t now = cmd.now_ms();
  int64_t retry_count = -1;
  int64_t delivery_time = -1;
  bool force = false, justid = false;
  StreamId last_id;
  for (; j < argc; ++j) {
    const bool more = j + 1 < argc;
    std::string_view opt = args[j];
    if (EqualsIgnoreCase(opt, "force")) {
      force = true;
    } else if (EqualsIgnoreCase(opt, "justid")) {
      justid = true;
    } else if (EqualsIgnoreCase(opt, "idle") && more) {
      ++j;
      if (!cmd::ParseInt64(args[j], &delivery_time)) {
        cmd.reply.Error("ERR Invalid IDLE option argument for XCLAIM");
        return;
      }
      delivery_time = now - delivery_time;
    } else if (EqualsIgnoreCase(opt, "time") && more) {
      ++j;
      if (!cmd::ParseInt64(args[j], &delivery_time)) {
        cmd.reply.Error("ERR Invalid TIME option argument for XCLAIM");
        return;
      }
    } else if (EqualsIgnoreCase(opt, "retrycount") && more) {
      ++j;
      if (!cmd::ParseInt64(args[j], &retry_count)) {
        cmd.reply.Error("ERR Invalid RETRYCOUNT option argument for XCLAIM");
        return;
      }
    } else if (EqualsIgnoreCase(opt, "lastid") && more) {
      ++j;
      if (!ParseStreamId(args[j], true, 0, &last_id)) {
        cmd.reply.Error(kInvalidIdErr);
        return;
      }
    } else {
      cmd.reply.Error(Cat("ERR Unrecognized XCLAIM option '", opt, "'"));
      return;
    }
  }
  if (last_id > group->last_id) group->last_id = last_id;
  if (delivery_time == -1 || delivery_time < 0 || delivery_time > now) delivery_time = now;

  StreamConsumer* consumer = nullptr;
  std::string body;
  ReplyBuilder items(&body, cmd.reply.version());
  size_t n = 0;
  for (StreamId id : ids) {
    StreamNack* nack = group->FindNack(id);
    if (!s->Contains(id)) {
      // The entry is gone: its PEL entry goes too.
      if (nack != nullptr) group->Ack(id);
      continue;
    }
    bool fresh = false;
    if (force && nack == nullptr) {
      group->AddNack(id, nullptr, now, 1);
      nack = group->FindNack(id);
      fresh = true;
    }
    if (nack == nullptr) continue;
    if (!fresh && min_idle != 0 && now - nack->delivery_time < min_idle) continue;
    if (consumer == nullptr) {
      bool created;
      consumer = group->FindOrCreateConsumer(args[3], now, &created);
      if (created) NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-createconsumer", args[1]);
      consumer->seen_time = now;
    }
    if (fresh) {
      nack->consumer = consumer;
      consumer->pel.insert(id);
    } else {
      group->Assign(nack, id, consumer);
    }
    nack->delivery_time = delivery_time;
    if (retry_count >= 0) {
      nack->delivery_count = static_cast<uint64_t>(retry_count);
    } else if (!justid) {
      ++nack->delivery_count;
    }
    if (justid) {
      items.Bulk(id.ToString());
    } else if (!WriteEntryById(items, *s, id)) {
      items.NullArray();
    }
    ++n;
  }
  cmd.reply.ArrayHeader(n);
  cmd.reply.Raw(body);
}

// ---------------------------------------------------------------------------------------------
// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]

void XautoclaimCommand(ShardCommand& cmd) {
  const ArgList args = cmd.args;
  const size_t argc = args.size();
  int64_t min_idle;
  if (!cmd::ParseInt64(args[4], &min_idle)) {
    cmd.reply.Error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
    return;
  }
  if (min_idle < 0) min_idle = 0;
  StreamId start;
  bool exclude;
  if (!ParseIntervalId(args[5], 0, &start, &exclude)) {
    cmd.reply.Error(kInvalidIdErr);
    return;
  }
  if (exclude && !start.Incr()) {
    cmd.reply.Error("ERR invalid start ID for the interval");
    return;
  }
  int64_t count = 100;
  bool justid = false;
  constexpr int64_t kAttemptsFactor = 10;
  for (size_t j = 6; j < argc; ++j) {
    if (EqualsIgnoreCase(args[j], "count") && j + 1 < argc) {
      constexpr int64_t kMaxCount = INT64_MAX / 16;  // LONG_MAX / max(sizeof(streamID), 10)
      if (!cmd::ParseInt64(args[j + 1], &count) || count < 1 || count > kMaxCount) {
        cmd.reply.Error("ERR COUNT must be > 0");
        return;
      }
      ++j;
    } else if (EqualsIgnoreCase(args[j], "justid")) {
      justid = true;
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  StreamLookup found = LookupStream(cmd.db, args[1], false);
  if (found.wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  StreamValue* s = found.stream;
  StreamGroup* group = s != nullptr ? s->groups().Find(args[2]) : nullptr;
  if (group == nullptr) {
    NoGroupError(cmd.reply, args[1], args[2]);
    return;
  }
  int64_t attempts = count * kAttemptsFactor;
  const int64_t now = cmd.now_ms();
  StreamConsumer* consumer = nullptr;
  std::vector<StreamId> deleted;
  std::string body;
  ReplyBuilder items(&body, cmd.reply.version());
  size_t n = 0;
  auto it = group->pel.lower_bound(start);
  bool eof = false;
  while (true) {
    if (attempts-- == 0 || count == 0) break;
    if (it == group->pel.end()) {
      eof = true;
      break;
    }
    const StreamId id = it->first;
    StreamNack* nack = &it->second;
    ++it;
    if (!s->Contains(id)) {
      group->Ack(id);  // the entry is gone: so is its PEL entry
      deleted.push_back(id);
      --count;
      continue;
    }
    if (min_idle != 0 && now - nack->delivery_time < min_idle) continue;
    if (consumer == nullptr) {
      bool created;
      consumer = group->FindOrCreateConsumer(args[3], now, &created);
      if (created) NotifyKeyspaceEvent(cmd, kNotifyStream, "xgroup-createconsumer", args[1]);
      consumer->seen_time = now;
    }
    group->Assign(nack, id, consumer);
    nack->delivery_time = now;
    if (!justid) ++nack->delivery_count;
    if (justid) {
      items.Bulk(id.ToString());
    } else {
      WriteEntryById(items, *s, id);
    }
    ++n;
    --count;
  }
  StreamId cursor;
  if (!eof && it != group->pel.end()) cursor = it->first;
  cmd.reply.ArrayHeader(3);
  cmd.reply.Bulk(cursor.ToString());
  cmd.reply.ArrayHeader(n);
  cmd.reply.Raw(body);
  cmd.reply.ArrayHeader(deleted.size());
  for (StreamId id : deleted) cmd.reply.Bulk(id.ToString());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// XINFO's group parts.

void ReplyXinfoGroups(ShardCommand& cmd, const StreamValue& s) {
  ReplyBuilder& reply = cmd.reply;
  reply.ArrayHeader(s.groups().size());
  for (const auto& [name, g] : s.groups().map()) {
    reply.MapHeader(6);
    reply.Bulk("name");
    reply.Bulk(name);
    reply.Bulk("consumers");
    reply.Integer(static_cast<int64_t>(g->consumers.size()));
    reply.Bulk("pending");
    reply.Integer(static_cast<int64_t>(g->pel.size()));
    reply.Bulk("last-delivered-id");
    reply.Bulk(g->last_id.ToString());
    reply.Bulk("entries-read");
    if (g->entries_read != kInvalidEntriesRead) {
      reply.Integer(g->entries_read);
    } else {
      reply.Null();
    }
    reply.Bulk("lag");
    int64_t lag;
    if (s.GroupLag(*g, &lag)) {
      reply.Integer(lag);
    } else {
      reply.Null();
    }
  }
}

void ReplyXinfoConsumers(ShardCommand& cmd, const StreamValue& s) {
  const StreamGroup* g = s.groups().Find(cmd.args[3]);
  if (g == nullptr) {
    cmd.reply.Error(
        Cat("NOGROUP No such consumer group '", cmd.args[3], "' for key name '", cmd.args[2], "'"));
    return;
  }
  ReplyBuilder& reply = cmd.reply;
  const int64_t now = cmd.now_ms();
  reply.ArrayHeader(g->consumers.size());
  for (const auto& [name, c] : g->consumers) {
    reply.MapHeader(3);
    reply.Bulk("name");
    reply.Bulk(name);
    reply.Bulk("pending");
    reply.Integer(static_cast<int64_t>(c->pel.size()));
    reply.Bulk("idle");
    reply.Integer(std::max<int64_t>(0, now - c->seen_time));
  }
}

void ReplyXinfoFullGroups(ReplyBuilder& reply, const StreamValue& s, uint64_t count,
                          int64_t now_ms) {
  (void)now_ms;
  reply.ArrayHeader(s.groups().size());
  for (const auto& [name, g] : s.groups().map()) {
    reply.MapHeader(7);
    reply.Bulk("name");
    reply.Bulk(name);
    reply.Bulk("last-delivered-id");
    reply.Bulk(g->last_id.ToString());
    reply.Bulk("entries-read");
    if (g->entries_read != kInvalidEntriesRead) {
      reply.Integer(g->entries_read);
    } else {
      reply.Null();
    }
    reply.Bulk("lag");
    int64_t lag;
    if (s.GroupLag(*g, &lag)) {
      reply.Integer(lag);
    } else {
      reply.Null();
    }
    reply.Bulk("pel-count");
    reply.Integer(static_cast<int64_t>(g->pel.size()));
    reply.Bulk("pending");
    const size_t pel_n = count == 0 ? g->pel.size() : std::min<size_t>(count, g->pel.size());
    reply.ArrayHeader(pel_n);
    size_t i = 0;
    for (auto it = g->pel.begin(); i < pel_n; ++it, ++i) {
      reply.ArrayHeader(4);
      reply.Bulk(it->first.ToString());
      reply.Bulk(it->second.consumer->name);
      reply.Integer(it->second.delivery_time);
      reply.Integer(static_cast<int64_t>(it->second.delivery_count));
    }
    reply.Bulk("consumers");
    reply.ArrayHeader(g->consumers.size());
    for (const auto& [cname, c] : g->consumers) {
      reply.MapHeader(4);
      reply.Bulk("name");
      reply.Bulk(cname);
      reply.Bulk("seen-time");
      reply.Integer(c->seen_time);
      reply.Bulk("pel-count");
      reply.Integer(static_cast<int64_t>(c->pel.size()));
      reply.Bulk("pending");
      const size_t cn = count == 0 ? c->pel.size() : std::min<size_t>(count, c->pel.size());
      reply.ArrayHeader(cn);
      size_t k = 0;
      for (auto it = c->pel.begin(); k < cn; ++it, ++k) {
        const StreamNack& nack = g->pel.find(*it)->second;
        reply.ArrayHeader(3);
        reply.Bulk(it->ToString());
        reply.Integer(nack.delivery_time);
        reply.Integer(static_cast<int64_t>(nack.delivery_count));
      }
    }
  }
}

void RegisterStreamGroupCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kF = kCmdFast;
  constexpr std::string_view kGroup = "stream";
  const std::vector<CommandSpec> specs = {
      {.name = "xgroup",
       .arity = -2,
       .flags = 0,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = "@slow",
       .group = kGroup,
       .summary = "A container for consumer groups commands",
       .since = "5.0.0",
       .on_shard = XgroupCommand,
       .get_keys = XgroupKeys},
      {"xgroup|create", -5, kW | kCmdDenyOom, 2, 2, 1, "@write @stream @slow", kGroup,
       "Create a consumer group.", "5.0.0"},
      {"xgroup|createconsumer", 5, kW | kCmdDenyOom, 2, 2, 1, "@write @stream @slow", kGroup,
       "Create a consumer in a consumer group.", "6.2.0"},
      {"xgroup|delconsumer", 5, kW, 2, 2, 1, "@write @stream @slow", kGroup,
       "Delete a consumer from a consumer group.", "5.0.0"},
      {"xgroup|destroy", 4, kW, 2, 2, 1, "@write @stream @slow", kGroup,
       "Destroy a consumer group.", "5.0.0"},
      {"xgroup|help", 2, kCmdLoading | kCmdStale, 0, 0, 0, "@stream @slow", kGroup,
       "Show helpful text about the different subcommands", "5.0.0"},
      {"xgroup|setid", -5, kW, 2, 2, 1, "@write @stream @slow", kGroup,
       "Set a consumer group to an arbitrary last delivered ID value.", "5.0.0"},
      {.name = "xreadgroup",
       .arity = -7,
       .flags = kW | kCmdBlocking | kCmdMovableKeys,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = "@write @stream @slow @blocking",
       .group = kGroup,
       .summary = "Return new entries from a stream using a consumer group, or access the history "
                  "of the pending entries for a given consumer. Can block.",
       .since = "5.0.0",
       .on_shard = XreadGroupCommand,
       .on_client = XreadGroupOnClient,
       .get_keys = XreadGroupKeys},
      {"xack", -4, kW | kF, 1, 1, 1, "@write @stream @fast", kGroup,
       "Marks a pending message as correctly processed, effectively removing it from the pending "
       "entries list of the consumer group. Return value of the command is the number of "
       "messages successfully acknowledged, that is, the IDs we were actually able to resolve in "
       "the PEL.",
       "5.0.0", XackCommand},
      {"xpending", -3, kCmdReadonly, 1, 1, 1, "@read @stream @slow", kGroup,
       "Return information and entries from a stream consumer group pending entries list, that "
       "are messages fetched but never acknowledged.",
       "5.0.0", XpendingCommand},
      {"xclaim", -6, kW | kF, 1, 1, 1, "@write @stream @fast", kGroup,
       "Changes (or acquires) ownership of a message in a consumer group, as if the message was "
       "delivered to the specified consumer.",
       "5.0.0", XclaimCommand},
      {"xautoclaim", -6, kW | kF, 1, 1, 1, "@write @stream @fast", kGroup,
       "Changes (or acquires) ownership of messages in a consumer group, as if the messages were "
       "delivered to the specified consumer.",
       "6.2.0", XautoclaimCommand},
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
