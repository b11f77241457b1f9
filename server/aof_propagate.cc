// AOF recording: the per-thread record buffers and how a shard handler's run becomes records, in
// the form redis-server 7.0 propagates each command (see aof.h). Runs on whichever reactor thread
// executed the command; touches only that thread's buffers.
#include <string>
#include <string_view>
#include <vector>

#include "server/aof.h"
#include "server/command_table.h"
#include "storage/db.h"
#include "storage/stream_value.h"

namespace shardis {
namespace aof {
namespace {

thread_local Sink t_sink;
thread_local Sink* t_target = nullptr;  // a Capture's sink, or null: t_sink

Sink& Current() { return t_target != nullptr ? *t_target : t_sink; }

void AppendResp(std::string* out, ArgList args) {
  CatAppend(out, '*', args.size(), "\r\n");
  for (std::string_view a : args) {
    CatAppend(out, '$', a.size(), "\r\n");
    out->append(a);
    out->append("\r\n");
  }
}

void SinkAppend(Sink& s, int db, ArgList args) {
  if (db != s.db) {
    std::string n = std::to_string(db);
    std::string_view select[2] = {"SELECT", n};
    AppendResp(&s.buf, select);
    if (s.commands == 0) s.first_select_end = s.buf.size();
    s.db = db;
  }
  AppendResp(&s.buf, args);
  ++s.commands;
}

// A minimal reader of one RESP reply value (RESP2 or RESP3), enough for the replies the
// translations below look at: bulk/simple strings, integers, nulls, arrays/sets of those.
struct ReplyReader {
  std::string_view in;
  size_t pos = 0;

  bool Line(std::string_view* line) {
    size_t end = in.find("\r\n", pos);
    if (end == std::string_view::npos) return false;
    *line = in.substr(pos, end - pos);
    pos = end + 2;
    return true;
  }
  // Reads one value; scalars go to *scalar (is_null when a null), aggregates' sizes to *count
  // (their elements are read by the caller).
  bool Next(char* type, std::string* scalar, int64_t* count, bool* is_null) {
    std::string_view line;
    *is_null = false;
    if (!Line(&line) || line.empty()) return false;
    *type = line[0];
    std::string_view rest = line.substr(1);
    switch (*type) {
      case '$': {
        int64_t len = 0;
        if (!cmd::ParseInt64(rest, &len)) return false;
        if (len < 0) {
          *is_null = true;
          return true;
        }
        if (pos + static_cast<size_t>(len) + 2 > in.size()) return false;
        scalar->assign(in.substr(pos, static_cast<size_t>(len)));
        pos += static_cast<size_t>(len) + 2;
        return true;
      }
      case '*':
      case '~':
      case '>': {
        if (!cmd::ParseInt64(rest, count)) return false;
        if (*count < 0) *is_null = true;
        return true;
      }
      case '%':
        if (!cmd::ParseInt64(rest, count)) return false;
        *count *= 2;
        return true;
      case '_':
        *is_null = true;
        return true;
      default:  // + : , # ( and the like
        scalar->assign(rest);
        return true;
    }
  }
  // A scalar value (bulk or simple); false for aggregates and nulls.
  bool Scalar(std::string* out) {
    char type;
    int64_t count;
    bool is_null;
    if (!Next(&type, out, &count, &is_null)) return false;
    return !is_null && type != '*' && type != '~' && type != '%' && type != '>';
  }
  // An aggregate's element count; false for nulls and scalars.
  bool Aggregate(int64_t* count) {
    char type;
    std::string scalar;
    bool is_null;
    if (!Next(&type, &scalar, count, &is_null)) return false;
    return !is_null && (type == '*' || type == '~' || type == '%' || type == '>');
  }
  bool Skip() {
    char type;
    std::string scalar;
    int64_t count = 0;
    bool is_null;
    if (!Next(&type, &scalar, &count, &is_null)) return false;
    if (!is_null && (type == '*' || type == '~' || type == '%' || type == '>')) {
      for (int64_t i = 0; i < count; ++i) {
        if (!Skip()) return false;
      }
    }
    return true;
  }
};

bool Is(std::string_view a, std::string_view b) { return cmd::EqualsIgnoreCase(a, b); }

// The absolute expiry in ms of an EX/PX/EXAT/PXAT option value; false when not a number.
bool AbsoluteMs(std::string_view unit, std::string_view value, int64_t now_ms, int64_t* out) {
  int64_t v = 0;
  if (!cmd::ParseInt64(value, &v)) return false;
  if (Is(unit, "ex")) {
    *out = now_ms + v * 1000;
  } else if (Is(unit, "px")) {
    *out = now_ms + v;
  } else if (Is(unit, "exat")) {
    *out = v * 1000;
  } else {
    *out = v;  // pxat
  }
  return true;
}

using Argv = std::vector<std::string>;

void Emit(int db, const Argv& argv) { Record(db, argv); }

// EXPIRE family and GETEX: PEXPIREAT at the absolute time, or DEL when it is already past.
void EmitExpireAt(int db, std::string_view key, int64_t at_ms, int64_t now_ms) {
  if (at_ms <= now_ms) {
    Emit(db, {"DEL", std::string(key)});
  } else {
    Emit(db, {"PEXPIREAT", std::string(key), std::to_string(at_ms)});
  }
}

// Pops served by a blocking command: "LPOP key" / "LPOP key count" etc. from the reply's key.
void EmitServedPop(int db, std::string_view pop, ReplyReader& r, bool with_count) {
  int64_t n = 0;
  std::string key;
  if (!r.Aggregate(&n) || n < 1 || !r.Scalar(&key)) return;
  if (!with_count) {
    Emit(db, {std::string(pop), key});
    return;
  }
  int64_t elements = 0;
  if (!r.Aggregate(&elements)) return;
  Emit(db, {std::string(pop), key, std::to_string(elements)});
}

// Runs a read-only command on the shard of `cmd` and returns its RESP2 reply (for the facts a
// record needs that the reply does not carry, e.g. a stream's length after trimming).
std::string Query(const ShardCommand& cmd, std::vector<std::string_view> args) {
  const CommandSpec* spec = CommandTable::Get().Find(args[0]);
  std::string out;
  if (spec == nullptr || spec->on_shard == nullptr) return out;
  ReplyBuilder reply(&out, RespVersion::kResp2);
  ShardCommand q{args, cmd.shard, cmd.db, cmd.db_index, reply, cmd.config};
  spec->on_shard(q);
  return out;
}

// XADD / XTRIM with "~" trimming: the amount trimmed depends on the stream's node layout, which
// a replay (after a rewrite, or on redis-server) need not share. As Redis, log the trim exact
// ("=") to what it left: MAXLEN the stream's length, MINID its first id (LIMIT dropped).
void RewriteApproxTrim(const ShardCommand& cmd, size_t from, Argv* argv) {
  for (size_t i = from; i + 2 < argv->size(); ++i) {
    bool maxlen = Is((*argv)[i], "maxlen");
    if (!maxlen && !Is((*argv)[i], "minid")) continue;
    if ((*argv)[i + 1] != "~") return;
    (*argv)[i + 1] = "=";
    std::string_view key = (*argv)[1];
    if (maxlen) {
      std::string r = Query(cmd, {"XLEN", key});
      if (r.size() > 3 && r[0] == ':') (*argv)[i + 2] = r.substr(1, r.size() - 3);
    } else {
      std::string first = Query(cmd, {"XRANGE", key, "-", "+", "COUNT", "1"});
      ReplyReader rr{first};
      int64_t n = 0, fields = 0;
      std::string id;
      if (rr.Aggregate(&n) && n == 1 && rr.Aggregate(&fields) && rr.Scalar(&id)) {
        (*argv)[i + 2] = id;
      }
    }
    if (i + 4 < argv->size() && Is((*argv)[i + 3], "limit")) {
      argv->erase(argv->begin() + static_cast<ptrdiff_t>(i + 3),
                  argv->begin() + static_cast<ptrdiff_t>(i + 5));
    }
    return;
  }
}

// ---- Consumer groups: their effects with explicit IDs, times and counts (as Redis 7.0) ----

// The group `group` of the stream at `key`, or null.
StreamGroup* FindGroup(const ShardCommand& cmd, std::string_view key, std::string_view group,
                       StreamValue** stream) {
  Entry* e = cmd.db.Find(key);
  if (e == nullptr || e->type() != ValueType::kStream) return nullptr;
  *stream = e->As<StreamValue>();
  return (*stream)->groups().Find(group);
}

// XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last: on replay it puts
// the PEL entry exactly as it is now (a deleted entry's goes, as the original's did).
void EmitClaim(int db, std::string_view key, std::string_view group, std::string_view consumer,
               StreamId id, const StreamGroup& g) {
  auto it = g.pel.find(id);
  int64_t time = it != g.pel.end() ? it->second.delivery_time : 0;
  uint64_t count = it != g.pel.end() ? it->second.delivery_count : 0;
  std::string_view owner = it != g.pel.end() && it->second.consumer != nullptr
                               ? std::string_view(it->second.consumer->name)
                               : consumer;
  Emit(db, {"XCLAIM", std::string(key), std::string(group), std::string(owner), "0", id.ToString(),
            "TIME", std::to_string(time), "RETRYCOUNT", std::to_string(count), "FORCE", "JUSTID",
            "LASTID", g.last_id.ToString()});
}

// XGROUP SETID key group last [ENTRIESREAD n]: the group's last ID and read counter as they are.
void EmitGroupId(int db, std::string_view key, std::string_view group, const StreamGroup& g) {
  Argv out{"XGROUP", "SETID", std::string(key), std::string(group), g.last_id.ToString()};
  if (g.entries_read != kInvalidEntriesRead) {
    out.push_back("ENTRIESREAD");
    out.push_back(std::to_string(g.entries_read));
  }
  Emit(db, out);
}

// Reads one entry of a stream reply ([id, fields], [id, nil], or a bare id under JUSTID).
// *live: its fields were there (not a deleted entry).
bool ReadEntryId(ReplyReader& r, StreamId* id, bool* live) {
  char type;
  std::string scalar;
  int64_t count = 0;
  bool is_null;
  if (!r.Next(&type, &scalar, &count, &is_null) || is_null) return false;
  *live = true;
  if (type != '*') return ParseStreamId(scalar, true, 0, id);
  if (count != 2 || !r.Scalar(&scalar) || !ParseStreamId(scalar, true, 0, id)) return false;
  size_t at = r.pos;
  int64_t fields = 0;
  if (!r.Aggregate(&fields)) {
    r.pos = at;
    *live = false;
    return r.Skip();
  }
  for (int64_t i = 0; i < fields; ++i) {
    if (!r.Skip()) return false;
  }
  return true;
}

// XREADGROUP: per stream served, each delivered (or re-delivered, for a history read) entry as
// an XCLAIM, then the group's last ID and read counter; NOACK reads as the consumer's creation
// and the group's new position. (Redis logs neither history reads nor the read counter of
// deliveries; both are logged here so that a replay gives back the very same group.)
void PropagateReadGroup(const ShardCommand& cmd, ReplyReader& r) {
  ArgList a = cmd.args;
  std::string_view group, consumer;
  bool noack = false;
  size_t streams_at = 0;
  for (size_t i = 1; i < a.size();) {
    if (Is(a[i], "group") && i + 2 < a.size()) {
      group = a[i + 1];
      consumer = a[i + 2];
      i += 3;
    } else if (Is(a[i], "noack")) {
      noack = true;
      ++i;
    } else if (Is(a[i], "streams")) {
      streams_at = i + 1;
      break;
    } else {
      i += 2;  // COUNT n, BLOCK ms
    }
  }
  if (streams_at == 0) return;
  size_t n = (a.size() - streams_at) / 2;
  char type;
  std::string scalar;
  int64_t served = 0;
  bool is_null;
  if (!r.Next(&type, &scalar, &served, &is_null) || is_null) return;
  bool map = type == '%';
  if (map) served /= 2;
  int db = cmd.db_index;
  for (int64_t k = 0; k < served; ++k) {
    int64_t pair = 0, entries = 0;
    std::string key;
    if ((!map && (!r.Aggregate(&pair) || pair != 2)) || !r.Scalar(&key) || !r.Aggregate(&entries)) {
      return;
    }
    bool history = false;
    for (size_t i = 0; i < n; ++i) {
      if (a[streams_at + i] == key) {
        history = a[streams_at + n + i] != ">";
        break;
      }
    }
    std::vector<StreamId> ids;
    for (int64_t e = 0; e < entries; ++e) {
      StreamId id;
      bool live = false;
      if (!ReadEntryId(r, &id, &live)) return;
      if (live) ids.push_back(id);
    }
    StreamValue* s = nullptr;
    StreamGroup* g = FindGroup(cmd, key, group, &s);
    if (g == nullptr) continue;
    if (noack && !history) {
      Emit(db, {"XGROUP", "CREATECONSUMER", key, std::string(group), std::string(consumer)});
    } else {
      for (StreamId id : ids) EmitClaim(db, key, group, consumer, id, *g);
    }
    if (!history && !ids.empty()) EmitGroupId(db, key, group, *g);
  }
}

// XCLAIM / XAUTOCLAIM: each claimed entry as an XCLAIM with its resulting time and count, each
// entry found deleted (its PEL entry dropped) as an XCLAIM that drops it again; XCLAIM's LASTID
// as the group's position.
void PropagateClaim(const ShardCommand& cmd, ReplyReader& r, bool autoclaim) {
  ArgList a = cmd.args;
  StreamValue* s = nullptr;
  StreamGroup* g = FindGroup(cmd, a[1], a[2], &s);
  if (g == nullptr) return;
  int db = cmd.db_index;
  std::vector<StreamId> claimed, dropped;
  int64_t n = 0;
  std::string scalar;
  if (autoclaim) {
    if (!r.Aggregate(&n) || n != 3 || !r.Scalar(&scalar) || !r.Aggregate(&n)) return;
  } else if (!r.Aggregate(&n)) {
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    StreamId id;
    bool live = false;
    if (!ReadEntryId(r, &id, &live)) return;
    claimed.push_back(id);
  }
  if (autoclaim) {
    if (!r.Aggregate(&n)) return;
    for (int64_t i = 0; i < n; ++i) {
      StreamId id;
      if (!r.Scalar(&scalar) || !ParseStreamId(scalar, true, 0, &id)) return;
      dropped.push_back(id);
    }
  } else {
    for (size_t j = 5; j < a.size(); ++j) {
      StreamId id;
      if (!ParseStreamId(a[j], true, 0, &id)) break;
      if (!s->Contains(id)) dropped.push_back(id);
    }
  }
  bool lastid = false;
  for (size_t j = 5; !autoclaim && j < a.size(); ++j) lastid = lastid || Is(a[j], "lastid");
  if (claimed.empty() && dropped.empty() && !lastid) return;
  for (StreamId id : claimed) EmitClaim(db, a[1], a[2], a[3], id, *g);
  for (StreamId id : dropped) EmitClaim(db, a[1], a[2], a[3], id, *g);
  if (lastid) EmitGroupId(db, a[1], a[2], *g);
}

}  // namespace

Capture::Capture(Sink* sink) : saved_(t_target) { t_target = sink; }
Capture::~Capture() { t_target = saved_; }

void Record(int db, ArgList args) { SinkAppend(Current(), db, args); }

void Record(int db, const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  SinkAppend(Current(), db, views);
}

void AppendTransaction(const Sink& s) {
  if (s.commands == 0) return;
  Sink& t = Current();
  if (s.commands == 1 || t_target != nullptr) {
    // One command needs no wrapping; inside another capture the outermost one wraps.
    t.buf.append(s.buf);
  } else {
    std::string_view all(s.buf);
    t.buf.append(all.substr(0, s.first_select_end));
    t.buf.append("*1\r\n$5\r\nMULTI\r\n");
    t.buf.append(all.substr(s.first_select_end));
    t.buf.append("*1\r\n$4\r\nEXEC\r\n");
  }
  if (t.commands == 0 && t.buf.size() == s.buf.size()) t.first_select_end = s.first_select_end;
  t.commands += s.commands;
  t.db = s.db;
}

std::string& ThreadBuffer() { return t_sink.buf; }
void ResetThreadBuffer() {
  t_sink.buf.clear();
  t_sink.db = -1;
  t_sink.commands = 0;
  t_sink.first_select_end = 0;
}

bool IsScriptCommand(const CommandSpec& spec) {
  std::string_view n = spec.name;
  return n == "eval" || n == "evalsha" || n == "eval_ro" || n == "evalsha_ro" || n == "fcall" ||
         n == "fcall_ro";
}

void RunShardHandler(const CommandSpec& spec, ShardCommand& cmd) {
  if (!Active()) {
    spec.on_shard(cmd);
    return;
  }
  if (IsScriptCommand(spec)) {
    // A script is recorded as its effects: the writes its redis.call made, in MULTI/EXEC.
    Sink effects;
    {
      Capture capture(&effects);
      spec.on_shard(cmd);
    }
    AppendTransaction(effects);
    return;
  }
  std::string* out = cmd.reply.buffer();
  size_t before = out->size();
  spec.on_shard(cmd);
  Propagate(spec, cmd, std::string_view(*out).substr(before));
}

// The absolute expiry the command left on `key` (PEXPIRETIME), so that the record carries
// exactly what the key got; false when the key has none (or is gone).
bool StoredExpiry(const ShardCommand& cmd, std::string_view key, int64_t* at_ms) {
  std::string r = Query(cmd, {"PEXPIRETIME", key});
  int64_t v = 0;
  if (r.size() < 4 || r[0] != ':' ||
      !cmd::ParseInt64(std::string_view(r).substr(1, r.size() - 3), &v) || v <= 0) {
    return false;
  }
  *at_ms = v;
  return true;
}

void Propagate(const CommandSpec& spec, const ShardCommand& cmd, std::string_view reply) {
  // A container's (XGROUP's) flags are its subcommand's.
  const CommandSpec* effective = &spec;
  if (cmd.args.size() >= 2) {
    if (const CommandSpec* sub = CommandTable::Get().FindSubcommand(cmd.args[0], cmd.args[1])) {
      effective = sub;
    }
  }
  if (!(effective->flags & kCmdWrite)) return;
  if (reply.empty() || reply[0] == '-' || reply[0] == '!') return;  // blocked, or failed
  ArgList a = cmd.args;
  int db = cmd.db_index;
  int64_t now = cmd.now_ms();
  std::string_view name = spec.name;
  ReplyReader r{reply};
  Argv argv(a.begin(), a.end());

  if (name == "set") {
    // SET ... EX/PX/EXAT -> SET ... PXAT <absolute ms> (as Redis 7.0).
    for (size_t i = 3; i + 1 < argv.size(); ++i) {
      if (Is(argv[i], "ex") || Is(argv[i], "px") || Is(argv[i], "exat")) {
        int64_t at = 0;
        if ((reply[0] == '+' && StoredExpiry(cmd, a[1], &at)) ||
            AbsoluteMs(argv[i], argv[i + 1], now, &at)) {
          argv[i] = "PXAT";
          argv[i + 1] = std::to_string(at);
        }
        break;
      }
    }
    Emit(db, argv);
  } else if (name == "setex" || name == "psetex") {
    int64_t at = 0;
    if (!StoredExpiry(cmd, a[1], &at) &&
        !AbsoluteMs(name == "setex" ? "ex" : "px", a[2], now, &at)) {
      return;
    }
    Emit(db, {"SET", argv[1], argv[3], "PXAT", std::to_string(at)});
  } else if (name == "expire" || name == "pexpire" || name == "expireat" || name == "pexpireat") {
    if (reply != ":1\r\n") return;  // not set (no key, or NX/XX/GT/LT refused)
    int64_t at = 0;
    std::string_view unit = name == "expire"     ? "ex"
                            : name == "pexpire"  ? "px"
                            : name == "expireat" ? "exat"
                                                 : "pxat";
    if (!StoredExpiry(cmd, a[1], &at) && !AbsoluteMs(unit, a[2], now, &at)) return;
    EmitExpireAt(db, a[1], at, now);
  } else if (name == "getex") {
    if (reply[0] == '_' || reply.substr(0, 3) == "$-1") return;  // no key
    for (size_t i = 2; i < a.size(); ++i) {
      if (Is(a[i], "persist")) {
        Emit(db, {"PERSIST", argv[1]});
        return;
      }
      if (i + 1 < a.size() &&
          (Is(a[i], "ex") || Is(a[i], "px") || Is(a[i], "exat") || Is(a[i], "pxat"))) {
        int64_t at = 0;
        if (StoredExpiry(cmd, a[1], &at) || AbsoluteMs(a[i], a[i + 1], now, &at)) {
          EmitExpireAt(db, a[1], at, now);
        }
        return;
      }
    }
  } else if (name == "getdel") {
    if (reply[0] == '_' || reply.substr(0, 3) == "$-1") return;
    Emit(db, {"DEL", argv[1]});
  } else if (name == "incrbyfloat") {
    std::string value;
    if (!r.Scalar(&value)) return;
    Emit(db, {"SET", argv[1], value, "KEEPTTL"});
  } else if (name == "hincrbyfloat") {
    std::string value;
    if (!r.Scalar(&value)) return;
    Emit(db, {"HSET", argv[1], argv[2], value});
  } else if (name == "spop") {
    Argv out{"SREM", argv[1]};
    if (a.size() == 2) {
      std::string member;
      if (!r.Scalar(&member)) return;
      out.push_back(std::move(member));
    } else {
      int64_t n = 0;
      if (!r.Aggregate(&n)) return;
      for (int64_t i = 0; i < n; ++i) {
        std::string member;
        if (!r.Scalar(&member)) return;
        out.push_back(std::move(member));
      }
    }
    if (out.size() > 2) Emit(db, out);
  } else if (name == "restore") {
    int64_t ttl = 0;
    bool absttl = false;
    for (size_t i = 4; i < a.size(); ++i) absttl = absttl || Is(a[i], "absttl");
    if (!absttl && cmd::ParseInt64(a[2], &ttl) && ttl > 0) {
      int64_t at = now + ttl;
      StoredExpiry(cmd, a[1], &at);
      argv[2] = std::to_string(at);
      argv.push_back("ABSTTL");
    }
    Emit(db, argv);
  } else if (name == "xadd") {
    std::string id;
    if (!r.Scalar(&id)) return;  // NOMKSTREAM on a missing stream
    size_t i = 2;
    while (i < argv.size()) {
      if (Is(argv[i], "nomkstream")) {
        ++i;
      } else if (Is(argv[i], "maxlen") || Is(argv[i], "minid")) {
        ++i;
        if (i < argv.size() && (argv[i] == "=" || argv[i] == "~")) ++i;
        ++i;
        if (i < argv.size() && Is(argv[i], "limit")) i += 2;
      } else {
        break;
      }
    }
    if (i < argv.size()) argv[i] = id;
    RewriteApproxTrim(cmd, 2, &argv);
    Emit(db, argv);
  } else if (name == "xtrim") {
    RewriteApproxTrim(cmd, 2, &argv);
    Emit(db, argv);
  } else if (name == "xreadgroup" || name == "xclaim" || name == "xautoclaim") {
    // One command's records go as one MULTI/EXEC (Redis wraps its also-propagated commands).
    Sink effects;
    {
      Capture capture(&effects);
      if (name == "xreadgroup") {
        PropagateReadGroup(cmd, r);
      } else {
        PropagateClaim(cmd, r, name == "xautoclaim");
      }
    }
    AppendTransaction(effects);
  } else if (name == "blpop" || name == "brpop") {
    EmitServedPop(db, name == "blpop" ? "LPOP" : "RPOP", r, false);
  } else if (name == "bzpopmin" || name == "bzpopmax") {
    EmitServedPop(db, name == "bzpopmin" ? "ZPOPMIN" : "ZPOPMAX", r, false);
  } else if (name == "blmpop" || name == "bzmpop") {
    // BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n]: the direction follows the keys.
    int64_t numkeys = 0;
    if (!cmd::ParseInt64(a[2], &numkeys) || numkeys < 1 ||
        static_cast<size_t>(3 + numkeys) >= a.size()) {
      return;
    }
    std::string_view where = a[3 + numkeys];
    std::string pop = name == "blmpop" ? (Is(where, "left") ? "LPOP" : "RPOP")
                                       : (Is(where, "min") ? "ZPOPMIN" : "ZPOPMAX");
    EmitServedPop(db, pop, r, true);
  } else if (name == "brpoplpush") {
    if (reply[0] == '_' || reply.substr(0, 3) == "$-1" || reply.substr(0, 3) == "*-1") return;
    Emit(db, {"RPOPLPUSH", argv[1], argv[2]});
  } else if (name == "blmove") {
    if (reply[0] == '_' || reply.substr(0, 3) == "$-1" || reply.substr(0, 3) == "*-1") return;
    Emit(db, {"LMOVE", argv[1], argv[2], argv[3], argv[4]});
  } else {
    Emit(db, argv);
  }
}

}  // namespace aof
}  // namespace shardis
