// The stream command family (consumer groups are in stream_group_family.cc): XADD, XLEN, XRANGE,
// XREVRANGE, XDEL, XTRIM, XREAD (with BLOCK), XSETID and XINFO (STREAM, GROUPS, CONSUMERS, HELP),
// with redis-server 7.0's semantics, reply types and error texts. The data structure lives in
// storage/stream_value.h.
//
// on_shard handlers run on the thread of the shard that owns the keys. XREAD's keys follow its
// STREAMS keyword, so a key finder (get_keys) tells the dispatcher where they are: when they all
// live on one shard, XREAD runs there and may block (the dispatcher re-runs it when XADD signals
// one of its keys); otherwise its on_client handler, on the connection's thread, fans the reads
// out to the owning shards, each task writing only its own slot, and merges them in key order.
// A blocking XREAD whose keys span shards and found nothing then waits as a cross-shard blocking
// command (ServerContext::BlockAcrossShards). XINFO's key is its third argument, also found by a
// key finder.
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
#include "server/commands/stream_group_family.h"
#include "server/config.h"
#include "server/server_context.h"
#include "storage/db.h"
#include "storage/stream_value.h"
#include "storage/value.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

constexpr std::string_view kInvalidIdErr =
    "ERR Invalid stream ID specified as stream command argument";
constexpr std::string_view kXReadGroupOnlyIdErr =
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
    "<consumer> option.";

bool IsStream(const Entry* e) { return e->type() == ValueType::kStream; }
StreamValue* AsStream(const Entry* e) { return e->As<StreamValue>(); }

void Touch(Entry* e, int64_t now_ms) { e->set_access_time(now_ms); }

// Redis's lookupKeyWrite: no hit/miss accounting, but the access time is updated.
Entry* FindForWrite(Db& db, std::string_view key) {
  Entry* e = db.Find(key);
  if (e != nullptr) Touch(e, db.now_ms());
  return e;
}

StreamNodeLimits NodeLimits(const Config& config) {
  return StreamNodeLimits{config.stream_node_max_entries, config.stream_node_max_bytes};
}

// ---------------------------------------------------------------------------------------------
// Replies.

void WriteEntry(ReplyBuilder& reply, StreamId id, const std::vector<std::string_view>& fv) {
  reply.ArrayHeader(2);
  reply.Bulk(id.ToString());
  reply.BulkArray(fv.data(), fv.size());
}

// Redis's streamReplyWithRange: the entries in [start, end] (descending when `reverse`), at most
// `count` of them (0 = all), as an array. Returns how many.
size_t ReplyRange(ReplyBuilder& reply, const StreamValue& s, StreamId start, StreamId end,
                  uint64_t count, bool reverse) {
  std::string body;
  ReplyBuilder entries(&body, reply.version());
  StreamValue::Iterator it(s, start, end, reverse);
  StreamId id;
  std::vector<std::string_view> fv;
  size_t n = 0;
  while ((count == 0 || n < count) && it.Next(&id, &fv)) {
    WriteEntry(entries, id, fv);
    ++n;
  }
  reply.ArrayHeader(n);
  reply.Raw(body);
  return n;
}

// One stream of an XREAD reply: [key, entries] (RESP2), or the key and entries of a map entry
// (RESP3, whose header the caller wrote).
void ReplyReadStream(ReplyBuilder& reply, std::string_view key, const StreamValue& s,
                     StreamId after, uint64_t count) {
  if (!reply.resp3()) reply.ArrayHeader(2);
  reply.Bulk(key);
  after.Incr();
  ReplyRange(reply, s, after, StreamId::Max(), count, false);
}

void ReadHeader(ReplyBuilder& reply, size_t n) {
  if (reply.resp3()) {
    reply.MapHeader(n);
  } else {
    reply.ArrayHeader(n);
  }
}

// ---------------------------------------------------------------------------------------------
// XADD / XTRIM arguments (Redis's streamParseAddOrTrimArgsOrReply).

struct AddTrimArgs {
  StreamTrimArgs trim;
  bool id_given = false;
  bool seq_given = true;
  StreamId id;
  bool no_mkstream = false;
};

// Returns the position of XADD's ID argument (for XTRIM: the argument count), or -1 after
// replying an error.
int ParseAddOrTrim(ShardCommand& cmd, bool xadd, AddTrimArgs* out) {
  using Strategy = StreamTrimArgs::Strategy;
  const ArgList args = cmd.args;
  const int argc = static_cast<int>(args.size());
  StreamTrimArgs& trim = out->trim;
  bool limit_given = false;
  int i = 2;
  for (; i < argc; ++i) {
    const int moreargs = argc - 1 - i;
    std::string_view opt = args[i];
    if (xadd && opt == "*") break;  // the common case: an automatic ID
    const bool maxlen = EqualsIgnoreCase(opt, "maxlen");
    if ((maxlen || EqualsIgnoreCase(opt, "minid")) && moreargs > 0) {
      if (trim.strategy != Strategy::kNone) {
        cmd.reply.Error(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
      }
      trim.approx = false;
      std::string_view next = args[i + 1];
      if (moreargs >= 2 && next == "~") {
        trim.approx = true;
        ++i;
      } else if (moreargs >= 2 && next == "=") {
        ++i;
      }
      if (maxlen) {
        int64_t n;
        if (!cmd::ParseInt64(args[i + 1], &n)) {
          cmd.reply.Error(cmd::kNotIntErr);
          return -1;
        }
        if (n < 0) {
          cmd.reply.Error("ERR The MAXLEN argument must be >= 0.");
          return -1;
        }
        trim.maxlen = static_cast<uint64_t>(n);
        trim.strategy = Strategy::kMaxLen;
      } else {
        if (!ParseStreamId(args[i + 1], true, 0, &trim.minid)) {
          cmd.reply.Error(kInvalidIdErr);
          return -1;
        }
        trim.strategy = Strategy::kMinId;
      }
      ++i;
    } else if (EqualsIgnoreCase(opt, "limit") && moreargs > 0) {
      if (!cmd::ParseInt64(args[i + 1], &trim.limit)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return -1;
      }
      if (trim.limit < 0) {
        cmd.reply.Error("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = true;
      ++i;
    } else if (xadd && EqualsIgnoreCase(opt, "nomkstream")) {
      out->no_mkstream = true;
    } else if (xadd) {
      // Anything else is the ID (or a syntax error reported as an invalid ID).
      if (!ParseStreamId(opt, true, 0, &out->id, &out->seq_given)) {
        cmd.reply.Error(kInvalidIdErr);
        return -1;
      }
      out->id_given = true;
      break;
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return -1;
    }
  }
  if (trim.limit != 0 && trim.strategy == Strategy::kNone) {
    cmd.reply.Error(
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && trim.strategy == Strategy::kNone) {
    cmd.reply.Error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (limit_given) {
    if (!trim.approx) {
      cmd.reply.Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else if (trim.approx) {
    // Without LIMIT, "~" trimming does at most 100 nodes' worth of work.
    trim.limit = 100 * static_cast<int64_t>(cmd.config.stream_node_max_entries);
    if (trim.limit <= 0 || trim.limit > 10000) trim.limit = 10000;
  } else {
    trim.limit = 0;  // exact trimming is never limited
  }
  return i;
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
void XaddCommand(ShardCommand& cmd) {
  AddTrimArgs parsed;
  const int id_pos = ParseAddOrTrim(cmd, true, &parsed);
  if (id_pos < 0) return;
  const int field_pos = id_pos + 1;
  const int values = static_cast<int>(cmd.args.size()) - field_pos;
  if (values < 2 || values % 2 == 1) {
    cmd.reply.Error(ArityError("xadd"));
    return;
  }
  // Checked before the stream is created, so a failed XADD leaves no empty key.
  if (parsed.id_given && parsed.seq_given && parsed.id.IsZero()) {
    cmd.reply.Error("ERR The ID specified in XADD must be greater than 0-0");
    return;
  }
  std::string_view key = cmd.args[1];
  Entry* e = FindForWrite(cmd.db, key);
  if (e != nullptr && !IsStream(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  std::unique_ptr<StreamValue> fresh;
  StreamValue* s;
  if (e == nullptr) {
    if (parsed.no_mkstream) {
      cmd.reply.Null();
      return;
    }
    fresh = std::make_unique<StreamValue>();
    s = fresh.get();
  } else {
    s = AsStream(e);
  }
  StreamValue::IdRequest request;
  if (parsed.id_given) {
    request.kind = parsed.seq_given ? StreamValue::IdRequest::Kind::kExplicit
                                    : StreamValue::IdRequest::Kind::kAutoSeq;
    request.id = parsed.id;
  }
  StreamId id;
  StreamValue::AddStatus status =
      s->Add(request, cmd.args.subspan(field_pos), cmd.now_ms(), NodeLimits(cmd.config), &id);
  // Redis has created the key by the time the append fails, so a new stream stays (empty).
  if (fresh != nullptr) {
    bool inserted = false;
    Entry* created = cmd.db.FindOrInsert(key, &inserted);
    cmd.db.Assign(created, Value::OfCollection(ValueType::kStream, std::move(fresh)));
    Touch(created, cmd.now_ms());
  }
  switch (status) {
    case StreamValue::AddStatus::kOk:
      break;
    case StreamValue::AddStatus::kExhausted:
      cmd.reply.Error(
          "ERR The stream has exhausted the last possible ID, unable to add more items");
      return;
    case StreamValue::AddStatus::kIdTooSmall:
      cmd.reply.Error(
          "ERR The ID specified in XADD is equal or smaller than the target stream top item");
      return;
    case StreamValue::AddStatus::kTooLarge:
      cmd.reply.Error("ERR Elements are too large to be stored");
      return;
  }
  cmd.reply.Bulk(id.ToString());
  NotifyKeyspaceEvent(cmd, kNotifyStream, "xadd", key);
  if (s->Trim(parsed.trim) > 0) NotifyKeyspaceEvent(cmd, kNotifyStream, "xtrim", key);
  // Clients blocked in XREAD on this key get served (a new key was signalled when created).
  if (e != nullptr) cmd.db.SignalKeyReady(key);
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
void XtrimCommand(ShardCommand& cmd) {
  AddTrimArgs parsed;
  if (ParseAddOrTrim(cmd, false, &parsed) < 0) return;
  Entry* e = FindForWrite(cmd.db, cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  if (!IsStream(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  int64_t trimmed = AsStream(e)->Trim(parsed.trim);
  cmd.reply.Integer(trimmed);
  if (trimmed > 0) NotifyKeyspaceEvent(cmd, kNotifyStream, "xtrim", cmd.args[1]);
}

// XLEN key
void XlenCommand(ShardCommand& cmd) {
  Entry* e = cmd.db.Lookup(cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Integer(0);
  } else if (!IsStream(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
  } else {
    cmd.reply.Integer(static_cast<int64_t>(AsStream(e)->size()));
  }
}

// An XRANGE bound: "-", "+", an ID, or "(" and an ID for an exclusive bound (Redis's
// streamParseIntervalIDOrReply).
bool ParseIntervalId(std::string_view text, uint64_t missing_seq, StreamId* id, bool* exclude) {
  *exclude = text.size() > 1 && text[0] == '(';
  if (*exclude) return ParseStreamId(text.substr(1), true, missing_seq, id);
  return ParseStreamId(text, false, missing_seq, id);
}

// XRANGE key start end [COUNT count] / XREVRANGE key end start [COUNT count]
template <bool kReverse>
void XrangeCommand(ShardCommand& cmd) {
  std::string_view start_arg = kReverse ? cmd.args[3] : cmd.args[2];
  std::string_view end_arg = kReverse ? cmd.args[2] : cmd.args[3];
  StreamId start, end;
  bool exclude;
  if (!ParseIntervalId(start_arg, 0, &start, &exclude)) {
    cmd.reply.Error(kInvalidIdErr);
    return;
  }
  if (exclude && !start.Incr()) {
    cmd.reply.Error("ERR invalid start ID for the interval");
    return;
  }
  if (!ParseIntervalId(end_arg, UINT64_MAX, &end, &exclude)) {
    cmd.reply.Error(kInvalidIdErr);
    return;
  }
  if (exclude && !end.Decr()) {
    cmd.reply.Error("ERR invalid end ID for the interval");
    return;
  }
  int64_t count = -1;
  for (size_t j = 4; j < cmd.args.size(); ++j) {
    if (EqualsIgnoreCase(cmd.args[j], "count") && j + 1 < cmd.args.size()) {
      if (!cmd::ParseInt64(cmd.args[j + 1], &count)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (count < 0) count = 0;
      ++j;
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  Entry* e = cmd.db.Lookup(cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.ArrayHeader(0);
    return;
  }
  if (!IsStream(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (count == 0) {
    cmd.reply.NullArray();
    return;
  }
  ReplyRange(cmd.reply, *AsStream(e), start, end, count < 0 ? 0 : static_cast<uint64_t>(count),
             kReverse);
}

// XDEL key id [id ...]
void XdelCommand(ShardCommand& cmd) {
  Entry* e = FindForWrite(cmd.db, cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  if (!IsStream(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  // Every ID is checked before anything is deleted.
  std::vector<StreamId> ids(cmd.args.size() - 2);
  for (size_t j = 2; j < cmd.args.size(); ++j) {
    if (!ParseStreamId(cmd.args[j], true, 0, &ids[j - 2])) {
      cmd.reply.Error(kInvalidIdErr);
      return;
    }
  }
  int64_t deleted = static_cast<int64_t>(AsStream(e)->Delete(ids));
  cmd.reply.Integer(deleted);
  if (deleted > 0) NotifyKeyspaceEvent(cmd, kNotifyStream, "xdel", cmd.args[1]);
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
void XsetidCommand(ShardCommand& cmd) {
  StreamId id;
  if (!ParseStreamId(cmd.args[2], true, 0, &id)) {
    cmd.reply.Error(kInvalidIdErr);
    return;
  }
  int64_t entries_added = -1;
  StreamId max_deleted;
  for (size_t i = 3; i < cmd.args.size(); i += 2) {
    const bool more = i + 1 < cmd.args.size();
    if (EqualsIgnoreCase(cmd.args[i], "entriesadded") && more) {
      if (!cmd::ParseInt64(cmd.args[i + 1], &entries_added)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (entries_added < 0) {
        cmd.reply.Error("ERR entries_added must be positive");
        return;
      }
    } else if (EqualsIgnoreCase(cmd.args[i], "maxdeletedid") && more) {
      if (!ParseStreamId(cmd.args[i + 1], true, 0, &max_deleted)) {
        cmd.reply.Error(kInvalidIdErr);
        return;
      }
      if (id < max_deleted) {
        cmd.reply.Error(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
        return;
      }
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  Entry* e = FindForWrite(cmd.db, cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Error(cmd::kNoSuchKeyErr);
    return;
  }
  if (!IsStream(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  // Redis 7.0 does not compare the ID with the stream's current max_deleted_entry_id.
  StreamValue* s = AsStream(e);
  if (s->size() > 0) {
    if (id < s->last_valid_id()) {
      cmd.reply.Error("ERR The ID specified in XSETID is smaller than the target stream top item");
      return;
    }
    if (entries_added != -1 && s->size() > static_cast<uint64_t>(entries_added)) {
      cmd.reply.Error(
          "ERR The entries_added specified in XSETID is smaller than the target stream length");
      return;
    }
  }
  s->set_last_id(id);
  if (entries_added != -1) s->set_entries_added(static_cast<uint64_t>(entries_added));
  if (!max_deleted.IsZero()) s->set_max_deleted_id(max_deleted);
  cmd.reply.Ok();
  NotifyKeyspaceEvent(cmd, kNotifyStream, "xsetid", cmd.args[1]);
}

// ---------------------------------------------------------------------------------------------
// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]

}  // namespace

// Parses the options of XREAD (`group` false) and XREADGROUP (`group` true) as Redis's
// xreadCommand does, with its errors. False with *error set on failure.
bool ParseStreamRead(ArgList args, bool group, StreamReadArgs* out, std::string* error,
                     bool from_script) {
  bool have_group = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const size_t moreargs = args.size() - i - 1;
    std::string_view opt = args[i];
    if (EqualsIgnoreCase(opt, "block") && moreargs > 0) {
      if (from_script) {
        *error = group ? "ERR xreadgroup command is not allowed with BLOCK option from scripts"
                       : "ERR xread command is not allowed with BLOCK option from scripts";
        return false;
      }
      ++i;
      if (!cmd::ParseInt64(args[i], &out->timeout_ms)) {
        *error = "ERR timeout is not an integer or out of range";
        return false;
      }
      if (out->timeout_ms < 0) {
        *error = "ERR timeout is negative";
        return false;
      }
      out->block = true;
    } else if (EqualsIgnoreCase(opt, "count") && moreargs > 0) {
      ++i;
      int64_t count;
      if (!cmd::ParseInt64(args[i], &count)) {
        *error = std::string(cmd::kNotIntErr);
        return false;
      }
      out->count = count < 0 ? 0 : static_cast<uint64_t>(count);
    } else if (EqualsIgnoreCase(opt, "streams") && moreargs > 0) {
      out->streams_at = i + 1;
      size_t n = args.size() - out->streams_at;
      if (n % 2 != 0) {
        *error =
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
            "specified.";
        return false;
      }
      out->streams = n / 2;
      break;
    } else if (EqualsIgnoreCase(opt, "group") && moreargs >= 2) {
      if (!group) {
        *error = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
        return false;
      }
      out->group = args[i + 1];
      out->consumer = args[i + 2];
      have_group = true;
      i += 2;
    } else if (EqualsIgnoreCase(opt, "noack")) {
      if (!group) {
        *error = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
        return false;
      }
      out->noack = true;
    } else {
      *error = std::string(cmd::kSyntaxErr);
      return false;
    }
  }
  if (out->streams_at == 0) {
    *error = std::string(cmd::kSyntaxErr);
    return false;
  }
  if (group && !have_group) {
    *error = "ERR Missing GROUP option for XREADGROUP";
    return false;
  }
  return true;
}

namespace {

// The key finder: the keys after STREAMS (none when the arguments are malformed).
void XreadKeys(ArgList args, std::vector<int>* positions) {
  StreamReadArgs parsed;
  std::string error;
  if (!ParseStreamRead(args, false, &parsed, &error)) return;
  for (size_t i = 0; i < parsed.streams; ++i) {
    positions->push_back(static_cast<int>(parsed.streams_at + i));
  }
}

// Resolves one key's ID argument ("$" = the stream's last ID) as Redis's XREAD does, after the
// key's type check. An empty return means success; otherwise the error text.
std::string_view ResolveReadId(Db& db, std::string_view key, std::string_view text, StreamId* id) {
  Entry* e = db.Lookup(key);
  if (e != nullptr && !IsStream(e)) return cmd::kWrongTypeErr;
  if (text == "$") {
    *id = e != nullptr ? AsStream(e)->last_id() : StreamId{};
    return {};
  }
  if (text == ">") return kXReadGroupOnlyIdErr;
  if (!ParseStreamId(text, true, 0, id)) return kInvalidIdErr;
  return {};
}

// The stream at key when it holds entries after `after`, else null.
const StreamValue* Readable(Db& db, std::string_view key, StreamId after) {
  Entry* e = db.Lookup(key);
  if (e == nullptr || !IsStream(e)) return nullptr;
  const StreamValue* s = AsStream(e);
  if (s->size() == 0 || s->last_valid_id() <= after) return nullptr;
  return s;
}

std::vector<std::string> UniqueKeys(ArgList keys) {
  std::vector<std::string> out;
  for (std::string_view k : keys) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.emplace_back(k);
  }
  return out;
}

// A blocked XREAD run again because one of its keys was written: like Redis's
// serveClientsBlockedOnStreamKey, it serves the first of its streams whose last ID moved past
// the requested one (a one-stream reply), or keeps waiting. Other types at the keys are ignored.
void ServeBlockedXread(ShardCommand& cmd, const StreamReadArgs& parsed) {
  ArgList keys = cmd.args.subspan(parsed.streams_at, parsed.streams);
  ArgList ids = cmd.args.subspan(parsed.streams_at + parsed.streams, parsed.streams);
  for (size_t i = 0; i < parsed.streams; ++i) {
    StreamId after;
    if (!ParseStreamId(ids[i], true, 0, &after)) continue;
    Entry* e = cmd.db.Find(keys[i]);
    if (e == nullptr || !IsStream(e) || AsStream(e)->last_id() <= after) continue;
    ReadHeader(cmd.reply, 1);
    ReplyReadStream(cmd.reply, keys[i], *AsStream(e), after, parsed.count);
    return;
  }
  if (!cmd.Block(UniqueKeys(keys), 0, TimeoutReply::kNullArray)) cmd.reply.NullArray();
}

void XreadCommand(ShardCommand& cmd) {
  StreamReadArgs parsed;
  std::string error;
  if (!ParseStreamRead(cmd.args, false, &parsed, &error, cmd.from_script)) {
    cmd.reply.Error(error);
    return;
  }
  if (cmd.retrying) {
    ServeBlockedXread(cmd, parsed);
    return;
  }
  const size_t n = parsed.streams;
  ArgList keys = cmd.args.subspan(parsed.streams_at, n);
  ArgList id_args = cmd.args.subspan(parsed.streams_at + n, n);
  std::vector<StreamId> ids(n);
  for (size_t i = 0; i < n; ++i) {
    std::string_view err = ResolveReadId(cmd.db, keys[i], id_args[i], &ids[i]);
    if (!err.empty()) {
      cmd.reply.Error(err);
      return;
    }
  }
  std::string body;
  ReplyBuilder streams(&body, cmd.reply.version());
  size_t served = 0;
  for (size_t i = 0; i < n; ++i) {
    const StreamValue* s = Readable(cmd.db, keys[i], ids[i]);
    if (s == nullptr) continue;
    ReplyReadStream(streams, keys[i], *s, ids[i], parsed.count);
    ++served;
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
  // Nothing yet: wait. Re-runs see "$" as the last ID it stood for now, so they return only
  // entries added after this point.
  std::vector<std::string> retry_args;
  if (std::find(id_args.begin(), id_args.end(), "$") != id_args.end()) {
    retry_args.assign(cmd.args.begin(), cmd.args.end());
    for (size_t i = 0; i < n; ++i) {
      if (id_args[i] == "$") retry_args[parsed.streams_at + n + i] = ids[i].ToString();
    }
  }
  int64_t deadline = 0;  // BLOCK 0: forever; a deadline past int64 also never comes (as Redis)
  if (parsed.timeout_ms > 0 && parsed.timeout_ms <= INT64_MAX - cmd.now_ms()) {
    deadline = cmd.now_ms() + parsed.timeout_ms;
  }
  if (!cmd.Block(UniqueKeys(keys), deadline, TimeoutReply::kNullArray, std::move(retry_args))) {
    cmd.reply.NullArray();
  }
}

// XREAD whose keys span shards: each shard resolves and reads its own keys; the reply is merged
// in key order, the first key (in argument order) with an error deciding the error.
void XreadOnClient(ClientCommand& c) {
  StreamReadArgs parsed;
  std::string error;
  if (!ParseStreamRead(c.args, false, &parsed, &error)) {
    c.reply.Error(error);
    return;
  }
  const size_t n = parsed.streams;
  struct KeyResult {
    size_t index;
    std::string error;
    std::string body;   // the stream's part of the reply; empty when it has nothing to serve
    std::string after;  // the ID read after ("$" resolved)
  };
  struct State {
    std::vector<std::string> keys, ids;
    uint64_t count;
    // BLOCK over keys of several shards: if nothing is served, the client waits for the first
    // stream to move past the IDs resolved now (ServerContext::BlockAcrossShards).
    bool block_across = false;
    int64_t timeout_ms = 0;
    uint64_t conn_id = 0;
    ServerContext* server = nullptr;
    RespVersion resp;
    int shard_count;
    std::vector<std::vector<KeyResult>> per_shard;  // one slot per shard
  };
  auto st = std::make_shared<State>();
  st->count = parsed.count;
  st->resp = c.reply.version();
  st->shard_count = c.shard_count();
  st->per_shard.resize(c.shard_count());
  std::vector<int> shards;
  for (size_t i = 0; i < n; ++i) {
    st->keys.emplace_back(c.args[parsed.streams_at + i]);
    st->ids.emplace_back(c.args[parsed.streams_at + n + i]);
    int shard = c.ShardOf(st->keys.back());
    if (std::find(shards.begin(), shards.end(), shard) == shards.end()) shards.push_back(shard);
  }
  // Inside MULTI or a script a blocking read does not block (as Redis).
  st->block_across = parsed.block && shards.size() > 1 && c.may_block_across_shards;
  st->timeout_ms = parsed.timeout_ms;
  st->conn_id = c.client.id;
  st->server = c.server;
  c.RunOnShards(
      shards,
      [st](ShardAccess& a) {
        std::vector<KeyResult>& out = st->per_shard[a.shard_index];
        for (size_t i = 0; i < st->keys.size(); ++i) {
          if (ShardOfKey(st->keys[i], st->shard_count) != a.shard_index) continue;
          KeyResult r{i, {}, {}, {}};
          StreamId after;
          std::string_view err = ResolveReadId(a.db, st->keys[i], st->ids[i], &after);
          if (!err.empty()) {
            r.error = std::string(err);
          } else if (const StreamValue* s = Readable(a.db, st->keys[i], after)) {
            ReplyBuilder body(&r.body, st->resp);
            ReplyReadStream(body, st->keys[i], *s, after, st->count);
          }
          r.after = after.ToString();
          out.push_back(std::move(r));
        }
      },
      [st](ReplyBuilder& reply, FanOutRunner&) {
        std::vector<const KeyResult*> results;
        for (const auto& slot : st->per_shard) {
          for (const KeyResult& r : slot) results.push_back(&r);
        }
        std::sort(results.begin(), results.end(),
                  [](const KeyResult* x, const KeyResult* y) { return x->index < y->index; });
        size_t served = 0;
        for (const KeyResult* r : results) {
          if (!r->error.empty()) {
            reply.Error(r->error);
            return;
          }
          if (!r->body.empty()) ++served;
        }
        if (served == 0 && st->block_across) {
          std::vector<std::vector<std::string>> tries;
          for (const KeyResult* r : results) {
            std::vector<std::string> one = {"xread"};
            if (st->count > 0) one.insert(one.end(), {"COUNT", std::to_string(st->count)});
            one.insert(one.end(), {"STREAMS", st->keys[r->index], r->after});
            tries.push_back(std::move(one));
          }
          st->server->BlockAcrossShards(st->conn_id, st->keys, std::move(tries), st->timeout_ms);
          return;
        }
        if (served == 0) {
          reply.NullArray();
          return;
        }
        ReadHeader(reply, served);
        for (const KeyResult* r : results) reply.Raw(r->body);
      });
}

// ---------------------------------------------------------------------------------------------
// XINFO STREAM key [FULL [COUNT count]] | GROUPS key | CONSUMERS key group | HELP

constexpr std::string_view kXinfoHelp[] = {
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
};

// The key finder: XINFO's subcommands (but HELP) take the key as their first argument.
void XinfoKeys(ArgList args, std::vector<int>* positions) {
  if (args.size() >= 3 && !EqualsIgnoreCase(args[1], "help")) positions->push_back(2);
}

void ReplyStreamInfo(ShardCommand& cmd, const StreamValue& s) {
  ArgList opts = cmd.args.subspan(3);
  bool full = false;
  int64_t count = 10;  // FULL's default, so a huge stream does not stall the server
  if (!opts.empty()) {
    if ((opts.size() != 1 && opts.size() != 3) || !EqualsIgnoreCase(opts[0], "full") ||
        (opts.size() == 3 && !EqualsIgnoreCase(opts[1], "count"))) {
      cmd.reply.Error(Cat("ERR unknown subcommand or wrong number of arguments for '",
                          cmd.args[1].substr(0, 128), "'. Try XINFO HELP."));
      return;
    }
    if (opts.size() == 3) {
      if (!cmd::ParseInt64(opts[2], &count)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (count < 0) count = 0;
    }
    full = true;
  }
  ReplyBuilder& reply = cmd.reply;
  reply.MapHeader(full ? 9 : 10);
  reply.Bulk("length");
  reply.Integer(static_cast<int64_t>(s.size()));
  reply.Bulk("radix-tree-keys");
  reply.Integer(static_cast<int64_t>(s.node_count()));
  reply.Bulk("radix-tree-nodes");
  reply.Integer(static_cast<int64_t>(s.RadixTreeNodes()));
  reply.Bulk("last-generated-id");
  reply.Bulk(s.last_id().ToString());
  reply.Bulk("max-deleted-entry-id");
  reply.Bulk(s.max_deleted_id().ToString());
  reply.Bulk("entries-added");
  reply.Integer(static_cast<int64_t>(s.entries_added()));
  reply.Bulk("recorded-first-entry-id");
  reply.Bulk(s.first_id().ToString());
  if (full) {
    reply.Bulk("entries");
    ReplyRange(reply, s, StreamId{}, StreamId::Max(), static_cast<uint64_t>(count), false);
    reply.Bulk("groups");
    ReplyXinfoFullGroups(reply, s, static_cast<uint64_t>(count), cmd.now_ms());
    return;
  }
  reply.Bulk("groups");
  reply.Integer(static_cast<int64_t>(s.groups().size()));
  for (bool last : {false, true}) {
    reply.Bulk(last ? "last-entry" : "first-entry");
    StreamValue::Iterator it(s, StreamId{}, StreamId::Max(), last);
    StreamId id;
    std::vector<std::string_view> fv;
    if (it.Next(&id, &fv)) {
      WriteEntry(reply, id, fv);
    } else {
      reply.Null();
    }
  }
}

void XinfoCommand(ShardCommand& cmd) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(cmd.args, cmd.reply);
  if (sub == nullptr) return;
  if (sub->name == "xinfo|help") {
    cmd.reply.ArrayHeader(1 + std::size(kXinfoHelp));
    cmd.reply.SimpleString(Cat(cmd::ToUpper(cmd.args[0]),
                               " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    for (std::string_view line : kXinfoHelp) cmd.reply.SimpleString(line);
    return;
  }
  Entry* e = cmd.db.Lookup(cmd.args[2]);
  if (e == nullptr) {
    cmd.reply.Error(cmd::kNoSuchKeyErr);
    return;
  }
  if (!IsStream(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (sub->name == "xinfo|stream") {
    ReplyStreamInfo(cmd, *AsStream(e));
  } else if (sub->name == "xinfo|groups") {
    ReplyXinfoGroups(cmd, *AsStream(e));
  } else {
    ReplyXinfoConsumers(cmd, *AsStream(e));
  }
}

}  // namespace

void RegisterStreamCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr uint32_t kF = kCmdFast;
  constexpr std::string_view kGroup = "stream";
  const std::vector<CommandSpec> specs = {
      {"xadd", -5, kW | kCmdDenyOom | kF, 1, 1, 1, "@write @stream @fast", kGroup,
       "Appends a new entry to a stream", "5.0.0", XaddCommand},
      {"xlen", 2, kR | kF, 1, 1, 1, "@read @stream @fast", kGroup,
       "Return the number of entries in a stream", "5.0.0", XlenCommand},
      {"xrange", -4, kR, 1, 1, 1, "@read @stream @slow", kGroup,
       "Return a range of elements in a stream, with IDs matching the specified IDs interval",
       "5.0.0", XrangeCommand<false>},
      {"xrevrange", -4, kR, 1, 1, 1, "@read @stream @slow", kGroup,
       "Return a range of elements in a stream, with IDs matching the specified IDs interval, "
       "in reverse order (from greater to smaller IDs) compared to XRANGE",
       "5.0.0", XrangeCommand<true>},
      {"xdel", -3, kW | kF, 1, 1, 1, "@write @stream @fast", kGroup,
       "Removes the specified entries from the stream. Returns the number of items actually "
       "deleted, that may be different from the number of IDs passed in case certain IDs do "
       "not exist.",
       "5.0.0", XdelCommand},
      {"xtrim", -4, kW, 1, 1, 1, "@write @stream @slow", kGroup,
       "Trims the stream to (approximately if '~' is passed) a certain size", "5.0.0",
       XtrimCommand},
      {.name = "xread",
       .arity = -4,
       .flags = kR | kCmdBlocking | kCmdMovableKeys,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = "@read @stream @slow @blocking",
       .group = kGroup,
       .summary = "Return never seen elements in multiple streams, with IDs greater than the ones "
                  "reported by the caller for each stream. Can block.",
       .since = "5.0.0",
       .on_shard = XreadCommand,
       .on_client = XreadOnClient,
       .get_keys = XreadKeys},
      {"xsetid", -3, kW | kCmdDenyOom | kF, 1, 1, 1, "@write @stream @fast", kGroup,
       "An internal command for replicating stream values", "5.0.0", XsetidCommand},
      {.name = "xinfo",
       .arity = -2,
       .flags = 0,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = "@slow",
       .group = kGroup,
       .summary = "A container for stream introspection commands",
       .since = "5.0.0",
       .on_shard = XinfoCommand,
       .get_keys = XinfoKeys},
      {"xinfo|consumers", 4, kR, 2, 2, 1, "@read @stream @slow", kGroup,
       "List the consumers in a consumer group", "5.0.0"},
      {"xinfo|groups", 3, kR, 2, 2, 1, "@read @stream @slow", kGroup,
       "List the consumer groups of a stream", "5.0.0"},
      {"xinfo|help", 2, kCmdLoading | kCmdStale, 0, 0, 0, "@stream @slow", kGroup,
       "Show helpful text about the different subcommands", "5.0.0"},
      {"xinfo|stream", -3, kR, 2, 2, 1, "@read @stream @slow", kGroup,
       "Get information about a stream", "5.0.0"},
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
