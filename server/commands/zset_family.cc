// The sorted-set commands on one key (ZADD ZINCRBY ZREM ZCARD ZCOUNT ZLEXCOUNT ZSCORE ZMSCORE
// ZRANK ZREVRANK, the ZRANGE family and ZRANGESTORE, ZREMRANGEBY*, ZPOPMIN/ZPOPMAX, ZMPOP,
// ZRANDMEMBER, ZSCAN) and the blocking pops (BZPOPMIN BZPOPMAX BZMPOP), with redis-server 7.0's
// semantics, reply shapes (RESP2 and RESP3) and error texts. The set operations live in
// zset_store_family.cc.
//
// on_shard handlers run on the thread of the shard that owns the keys. ZRANGESTORE's keys may
// span shards: its on_client handler reads the range on the source's shard (owned copies) and
// stores it on the destination's shard in a second phase (not atomic across shards). The
// blocking pops need all their keys on one shard (they have no on_client, so the dispatcher
// answers CROSSSLOT otherwise); when nothing can be served they park through ShardCommand::Block
// and are re-run, first come first served, when a key they wait on is created.
#include "server/commands/zset_family.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "server/command.h"
#include "server/config.h"
#include "storage/glob.h"
#include "storage/shard_data.h"

namespace shardis {
namespace zset {

void StoreResult(Db& db, std::string_view key, std::vector<ZEntry> sorted, const char* event,
                 const ZSetLimits& limits) {
  if (sorted.empty()) {
    if (db.Erase(key)) db.Notify(kNotifyGeneric, "del", key);
    return;
  }
  bool existed = db.Find(key) != nullptr;
  Entry* e = db.Set(
      key, Value::OfCollection(ValueType::kZSet, ZSetValue::FromSorted(std::move(sorted), limits)));
  e->set_access_time(db.now_ms());
  db.Notify(kNotifyZset, event, key);
  // A created key is signalled by Db itself; an overwritten one (e.g. a string) here.
  if (existed) db.SignalKeyReady(key);
}

namespace {

constexpr std::string_view kMinMaxNotFloatErr = "ERR min or max is not a float";
constexpr std::string_view kLexRangeErr = "ERR min or max not valid string range item";
constexpr std::string_view kLimitWithRankErr =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
constexpr std::string_view kWithscoresLexErr =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
constexpr std::string_view kMustBePositiveErr = "ERR value is out of range, must be positive";
constexpr std::string_view kNumkeysErr = "ERR numkeys should be greater than 0";
constexpr std::string_view kCountErr = "ERR count should be greater than 0";

// ---------------------------------------------------------------------------------------------
// Argument parsing (Redis's rules)

// zslParseRange's item: strtod over the C string (so it stops at an embedded NUL, accepts leading
// space, hex, "inf"), optional leading '(' for an exclusive end, NaN refused.
bool ParseScoreItem(std::string_view arg, double* value, bool* exclusive) {
  std::string buf(arg);
  const char* p = buf.c_str();
  *exclusive = false;
  if (p[0] == '(') {
    *exclusive = true;
    ++p;
  }
  char* end = nullptr;
  double v = std::strtod(p, &end);
  if (*end != '\0' || std::isnan(v)) return false;
  *value = v;
  return true;
}

bool ParseScoreRange(std::string_view min, std::string_view max, ZScoreRange* range) {
  return ParseScoreItem(min, &range->min, &range->minex) &&
         ParseScoreItem(max, &range->max, &range->maxex);
}

// zslParseLexRangeItem: "+" / "-" alone, or "(" / "[" followed by the member.
bool ParseLexItem(std::string_view arg, ZLexBound* bound) {
  if (arg.empty()) return false;
  switch (arg[0]) {
    case '+':
    case '-':
      if (arg.size() > 1 && arg[1] != '\0') return false;
      bound->kind = arg[0] == '+' ? ZLexBound::Kind::kPosInf : ZLexBound::Kind::kNegInf;
      bound->exclusive = true;
      return true;
    case '(':
    case '[':
      bound->kind = ZLexBound::Kind::kValue;
      bound->exclusive = arg[0] == '(';
      bound->value = std::string(arg.substr(1));
      return true;
    default:
      return false;
  }
}

bool ParseLexRange(std::string_view min, std::string_view max, ZLexRange* range) {
  return ParseLexItem(min, &range->min) && ParseLexItem(max, &range->max);
}

// getPositiveLongFromObjectOrReply with its default message (non-integers get it too).
bool ParsePositive(std::string_view arg, int64_t* out) {
  return cmd::ParseInt64(arg, out) && *out >= 0;
}

// ---------------------------------------------------------------------------------------------
// ZADD ZINCRBY (Redis's zaddGenericCommand)

void ZaddGeneric(ShardCommand& cmd, bool zincrby) {
  ArgList args = cmd.args;
  int flags = zincrby ? kZAddIncr : 0;
  bool ch = false;
  size_t idx = 2;
  if (!zincrby) {
    for (; idx < args.size(); ++idx) {
      std::string_view opt = args[idx];
      if (cmd::EqualsIgnoreCase(opt, "nx")) {
        flags |= kZAddNx;
      } else if (cmd::EqualsIgnoreCase(opt, "xx")) {
        flags |= kZAddXx;
      } else if (cmd::EqualsIgnoreCase(opt, "ch")) {
        ch = true;
      } else if (cmd::EqualsIgnoreCase(opt, "incr")) {
        flags |= kZAddIncr;
      } else if (cmd::EqualsIgnoreCase(opt, "gt")) {
        flags |= kZAddGt;
      } else if (cmd::EqualsIgnoreCase(opt, "lt")) {
        flags |= kZAddLt;
      } else {
        break;
      }
    }
  }
  size_t remaining = args.size() - idx;
  if (remaining == 0 || remaining % 2 != 0) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  size_t pairs = remaining / 2;
  bool nx = flags & kZAddNx, xx = flags & kZAddXx, gt = flags & kZAddGt, lt = flags & kZAddLt;
  bool incr = flags & kZAddIncr;
  if (nx && xx) {
    cmd.reply.Error("ERR XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    cmd.reply.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && pairs > 1) {
    cmd.reply.Error("ERR INCR option supports a single increment-element pair");
    return;
  }
  std::vector<double> scores(pairs);
  for (size_t j = 0; j < pairs; ++j) {
    if (!ParseScore(args[idx + 2 * j], &scores[j])) {
      cmd.reply.Error(cmd::kNotFloatErr);
      return;
    }
  }
  std::string_view key = args[1];
  Entry* e = LookupWrite(cmd.db, key);
  if (e != nullptr && !IsZSet(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  if (e == nullptr && !xx) {
    bool inserted = false;
    e = cmd.db.FindOrInsert(key, &inserted);
    cmd.db.Assign(e, Value::OfCollection(ValueType::kZSet, std::make_unique<ZSetValue>()));
  }
  if (e != nullptr) {
    ZSetValue* z = ZSetOf(e);
    ZSetLimits limits = LimitsOf(cmd.config);
    for (size_t j = 0; j < pairs; ++j) {
      double new_score = 0;
      ZAddResult r = z->Add(scores[j], args[idx + 2 * j + 1], flags, limits, &new_score);
      if (r == ZAddResult::kNaN) {
        if (z->empty()) cmd.db.Erase(key);
        if (added + updated > 0) NotifyKeyspaceEvent(cmd, kNotifyZset, "zincr", key);
        cmd.reply.Error(kNanErr);
        return;
      }
      if (r == ZAddResult::kAdded) ++added;
      if (r == ZAddResult::kUpdated) ++updated;
      if (r != ZAddResult::kNop) {
        ++processed;
        score = new_score;
      }
    }
    if (z->empty()) cmd.db.Erase(key);
    if (added + updated > 0) NotifyKeyspaceEvent(cmd, kNotifyZset, incr ? "zincr" : "zadd", key);
  }
  if (incr) {
    if (processed > 0) {
      cmd.reply.Double(score);
    } else {
      cmd.reply.Null();
    }
  } else {
    cmd.reply.Integer(ch ? added + updated : added);
  }
}

void ZaddCommand(ShardCommand& cmd) { ZaddGeneric(cmd, false); }
void ZincrbyCommand(ShardCommand& cmd) { ZaddGeneric(cmd, true); }

// ---------------------------------------------------------------------------------------------
// ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT

void ZremCommand(ShardCommand& cmd) {
  Entry* e = LookupWrite(cmd.db, cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  if (!IsZSet(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  ZSetValue* z = ZSetOf(e);
  int64_t deleted = 0;
  for (size_t j = 2; j < cmd.args.size(); ++j) {
    if (z->Remove(cmd.args[j])) ++deleted;
    if (z->empty()) break;
  }
  if (deleted > 0) NotifyKeyspaceEvent(cmd, kNotifyZset, "zrem", cmd.args[1]);
  if (z->empty()) {
    cmd.db.Erase(cmd.args[1]);
    NotifyKeyspaceEvent(cmd, kNotifyGeneric, "del", cmd.args[1]);
  }
  cmd.reply.Integer(deleted);
}

// Looks up a zset for reading: null with the reply written (`missing` or WRONGTYPE) when there is
// none to work on. `missing` writes the reply for an absent key.
template <typename Missing>
const ZSetValue* ReadZSet(ShardCommand& cmd, std::string_view key, Missing missing) {
  Entry* e = LookupRead(cmd.db, key);
  if (e == nullptr) {
    missing();
    return nullptr;
  }
  if (!IsZSet(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return nullptr;
  }
  return ZSetOf(e);
}

void ZcardCommand(ShardCommand& cmd) {
  const ZSetValue* z = ReadZSet(cmd, cmd.args[1], [&] { cmd.reply.Integer(0); });
  if (z != nullptr) cmd.reply.Integer(static_cast<int64_t>(z->size()));
}

void ZscoreCommand(ShardCommand& cmd) {
  const ZSetValue* z = ReadZSet(cmd, cmd.args[1], [&] { cmd.reply.Null(); });
  if (z == nullptr) return;
  double score = 0;
  if (z->Score(cmd.args[2], &score)) {
    cmd.reply.Double(score);
  } else {
    cmd.reply.Null();
  }
}

void ZmscoreCommand(ShardCommand& cmd) {
  Entry* e = LookupRead(cmd.db, cmd.args[1]);
  if (e != nullptr && !IsZSet(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  const ZSetValue* z = e == nullptr ? nullptr : ZSetOf(e);
  cmd.reply.ArrayHeader(cmd.args.size() - 2);
  for (size_t j = 2; j < cmd.args.size(); ++j) {
    double score = 0;
    if (z != nullptr && z->Score(cmd.args[j], &score)) {
      cmd.reply.Double(score);
    } else {
      cmd.reply.Null();
    }
  }
}

template <bool kReverse>
void ZrankCommand(ShardCommand& cmd) {
  const ZSetValue* z = ReadZSet(cmd, cmd.args[1], [&] { cmd.reply.Null(); });
  if (z == nullptr) return;
  size_t rank = 0;
  if (!z->Rank(cmd.args[2], &rank)) {
    cmd.reply.Null();
    return;
  }
  cmd.reply.Integer(static_cast<int64_t>(kReverse ? z->size() - 1 - rank : rank));
}

void ZcountCommand(ShardCommand& cmd) {
  ZScoreRange range;
  if (!ParseScoreRange(cmd.args[2], cmd.args[3], &range)) {
    cmd.reply.Error(kMinMaxNotFloatErr);
    return;
  }
  const ZSetValue* z = ReadZSet(cmd, cmd.args[1], [&] { cmd.reply.Integer(0); });
  if (z != nullptr) cmd.reply.Integer(static_cast<int64_t>(z->ScoreSpan(range).size()));
}

void ZlexcountCommand(ShardCommand& cmd) {
  ZLexRange range;
  if (!ParseLexRange(cmd.args[2], cmd.args[3], &range)) {
    cmd.reply.Error(kLexRangeErr);
    return;
  }
  const ZSetValue* z = ReadZSet(cmd, cmd.args[1], [&] { cmd.reply.Integer(0); });
  if (z != nullptr) cmd.reply.Integer(static_cast<int64_t>(z->LexSpan(range, false).size()));
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and its variants (Redis's zrangeGenericCommand)

enum class RangeType : uint8_t { kAuto, kRank, kScore, kLex };
enum class RangeDir : uint8_t { kAuto, kForward, kReverse };

struct RangeRequest {
  RangeType type = RangeType::kRank;
  bool reverse = false;
  bool withscores = false;
  int64_t start = 0;  // rank ranges
  int64_t end = 0;
  int64_t offset = 0;  // LIMIT
  int64_t limit = -1;
  ZScoreRange score;
  ZLexRange lex;
};

// Parses the arguments after the source key at `src`; returns Redis's error text, or "".
// `store`: ZRANGESTORE (no WITHSCORES).
std::string_view ParseRange(ArgList args, size_t src, bool store, RangeType type, RangeDir dir,
                            RangeRequest* req) {
  size_t minidx = src + 1;
  size_t maxidx = src + 2;
  for (size_t j = src + 3; j < args.size(); ++j) {
    size_t left = args.size() - j - 1;
    std::string_view opt = args[j];
    if (!store && cmd::EqualsIgnoreCase(opt, "withscores")) {
      req->withscores = true;
    } else if (cmd::EqualsIgnoreCase(opt, "limit") && left >= 2) {
      if (!cmd::ParseInt64(args[j + 1], &req->offset) ||
          !cmd::ParseInt64(args[j + 2], &req->limit)) {
        return cmd::kNotIntErr;
      }
      j += 2;
    } else if (dir == RangeDir::kAuto && cmd::EqualsIgnoreCase(opt, "rev")) {
      dir = RangeDir::kReverse;
    } else if (type == RangeType::kAuto && cmd::EqualsIgnoreCase(opt, "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && cmd::EqualsIgnoreCase(opt, "byscore")) {
      type = RangeType::kScore;
    } else {
      return cmd::kSyntaxErr;
    }
  }
  if (type == RangeType::kAuto) type = RangeType::kRank;
  req->type = type;
  req->reverse = dir == RangeDir::kReverse;
  if (req->limit != -1 && type == RangeType::kRank) return kLimitWithRankErr;
  if (req->withscores && type == RangeType::kLex) return kWithscoresLexErr;
  if (req->reverse && type != RangeType::kRank) std::swap(minidx, maxidx);
  switch (type) {
    case RangeType::kAuto:
    case RangeType::kRank:
      if (!cmd::ParseInt64(args[minidx], &req->start) ||
          !cmd::ParseInt64(args[maxidx], &req->end)) {
        return cmd::kNotIntErr;
      }
      break;
    case RangeType::kScore:
      if (!ParseScoreRange(args[minidx], args[maxidx], &req->score)) return kMinMaxNotFloatErr;
      break;
    case RangeType::kLex:
      if (!ParseLexRange(args[minidx], args[maxidx], &req->lex)) return kLexRangeErr;
      break;
  }
  return {};
}

// The ascending ranks a request selects, and the order to emit them in.
struct Slice {
  size_t begin = 0;
  size_t end = 0;
  bool reverse = false;
  size_t size() const { return end > begin ? end - begin : 0; }
};

Slice ResolveSlice(const ZSetValue& z, const RangeRequest& req) {
  const int64_t len = static_cast<int64_t>(z.size());
  if (req.type == RangeType::kRank) {
    int64_t start = req.start;
    int64_t end = req.end;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) return {};
    if (end >= len) end = len - 1;
    if (!req.reverse) {
      return {static_cast<size_t>(start), static_cast<size_t>(end + 1), false};
    }
    return {static_cast<size_t>(len - 1 - end), static_cast<size_t>(len - start), true};
  }
  ZRankSpan span =
      req.type == RangeType::kScore ? z.ScoreSpan(req.score) : z.LexSpan(req.lex, req.reverse);
  // A negative offset skips past everything; a negative limit means no limit.
  if (req.offset < 0 || span.empty() || static_cast<uint64_t>(req.offset) >= span.size()) {
    return {};
  }
  size_t offset = static_cast<size_t>(req.offset);
  size_t take = span.size() - offset;
  if (req.limit >= 0 && static_cast<uint64_t>(req.limit) < take) {
    take = static_cast<size_t>(req.limit);
  }
  if (!req.reverse) return {span.begin + offset, span.begin + offset + take, false};
  return {span.end - offset - take, span.end - offset, true};
}

// Calls fn(member, score) over a slice in its emission order.
template <typename Fn>
void ForSlice(const ZSetValue& z, const Slice& s, Fn&& fn) {
  size_t n = s.size();
  if (n == 0) return;
  ZSetValue::Iterator it = z.At(s.reverse ? s.end - 1 : s.begin);
  for (size_t i = 0; i < n && it.valid(); ++i) {
    fn(it.member(), it.score());
    if (s.reverse) {
      it.Prev();
    } else {
      it.Next();
    }
  }
}

// The slice's elements as owned entries in ascending order (for storing).
std::vector<ZEntry> CollectAscending(const ZSetValue& z, Slice s) {
  std::vector<ZEntry> out;
  out.reserve(s.size());
  s.reverse = false;
  ForSlice(z, s, [&](std::string_view m, double score) { out.push_back({std::string(m), score}); });
  return out;
}

template <RangeType kType, RangeDir kDir>
void RangeCommand(ShardCommand& cmd) {
  RangeRequest req;
  std::string_view err = ParseRange(cmd.args, 1, false, kType, kDir, &req);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  const ZSetValue* z = ReadZSet(cmd, cmd.args[1], [&] { cmd.reply.ArrayHeader(0); });
  if (z == nullptr) return;
  Slice s = ResolveSlice(*z, req);
  cmd.reply.ArrayHeader(PairsLength(cmd.reply, s.size(), req.withscores));
  ForSlice(*z, s, [&](std::string_view m, double score) {
    ReplyPair(cmd.reply, m, score, req.withscores);
  });
}

// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]

// Redis builds ZRANGESTORE's destination element by element in emission order, as a listpack
// unless a rank range is known to be too long for one, converting when an element breaks a limit;
// the elements added while it is a listpack keep a listpack's score (-0 becomes 0).
void ScoresAsBuilt(std::vector<ZEntry>* entries, bool reverse, bool size_known,
                   const ZSetLimits& limits) {
  size_t n = entries->size();
  if (size_known && n > limits.max_listpack_entries) return;
  for (size_t k = 0; k < n; ++k) {
    ZEntry& e = (*entries)[reverse ? n - 1 - k : k];
    if (k + 1 > limits.max_listpack_entries || e.member.size() > limits.max_listpack_value) return;
    e.score = ListpackScore(e.score);
  }
}

// Reads the requested range of `src` (on its shard) in ascending order; false on a wrong type.
bool ReadRangeForStore(Db& db, std::string_view src, const RangeRequest& req,
                       const ZSetLimits& limits, std::vector<ZEntry>* out) {
  Entry* e = LookupRead(db, src);
  if (e == nullptr) return true;
  if (!IsZSet(e)) return false;
  const ZSetValue* z = ZSetOf(e);
  Slice slice = ResolveSlice(*z, req);
  *out = CollectAscending(*z, slice);
  ScoresAsBuilt(out, slice.reverse, req.type == RangeType::kRank, limits);
  return true;
}

void ZrangestoreOnShard(ShardCommand& cmd) {
  RangeRequest req;
  std::string_view err = ParseRange(cmd.args, 2, true, RangeType::kAuto, RangeDir::kAuto, &req);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  std::vector<ZEntry> entries;
  ZSetLimits limits = LimitsOf(cmd.config);
  if (!ReadRangeForStore(cmd.db, cmd.args[2], req, limits, &entries)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  int64_t count = static_cast<int64_t>(entries.size());
  StoreResult(cmd.db, cmd.args[1], std::move(entries), "zrangestore", limits);
  cmd.reply.Integer(count);
}

struct RangeStoreState {
  std::string dst;
  std::string src;
  RangeRequest req;
  bool wrong_type = false;  // written by the source shard's task
  std::vector<ZEntry> entries;
  int64_t count = 0;
};

void ZrangestoreOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<RangeStoreState>();
  std::string_view err = ParseRange(cmd.args, 2, true, RangeType::kAuto, RangeDir::kAuto, &st->req);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  st->dst = std::string(cmd.args[1]);
  st->src = std::string(cmd.args[2]);
  int dst_shard = cmd.ShardOf(st->dst);
  cmd.RunOnShards(
      {cmd.ShardOf(st->src)},
      [st](ShardAccess& a) {
        st->wrong_type =
            !ReadRangeForStore(a.db, st->src, st->req, LimitsOf(a.config), &st->entries);
      },
      [st, dst_shard](ReplyBuilder& reply, FanOutRunner& runner) {
        if (st->wrong_type) {
          reply.Error(cmd::kWrongTypeErr);
          return;
        }
        st->count = static_cast<int64_t>(st->entries.size());
        runner.RunOnShards(
            {dst_shard},
            [st](ShardAccess& a) {
              StoreResult(a.db, st->dst, std::move(st->entries), "zrangestore", LimitsOf(a.config));
            },
            [st](ReplyBuilder& reply, FanOutRunner&) { reply.Integer(st->count); });
      });
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX (Redis's zremrangeGenericCommand)

template <RangeType kType>
void ZremrangeCommand(ShardCommand& cmd) {
  RangeRequest req;
  req.type = kType;
  if (kType == RangeType::kRank) {
    if (!cmd::ParseInt64(cmd.args[2], &req.start) || !cmd::ParseInt64(cmd.args[3], &req.end)) {
      cmd.reply.Error(cmd::kNotIntErr);
      return;
    }
  } else if (kType == RangeType::kScore) {
    if (!ParseScoreRange(cmd.args[2], cmd.args[3], &req.score)) {
      cmd.reply.Error(kMinMaxNotFloatErr);
      return;
    }
  } else if (!ParseLexRange(cmd.args[2], cmd.args[3], &req.lex)) {
    cmd.reply.Error(kLexRangeErr);
    return;
  }
  Entry* e = LookupWrite(cmd.db, cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  if (!IsZSet(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  ZSetValue* z = ZSetOf(e);
  Slice s = ResolveSlice(*z, req);
  size_t removed = z->RemoveRanks({s.begin, s.end});
  if (removed > 0) {
    NotifyKeyspaceEvent(cmd, kNotifyZset,
                        kType == RangeType::kRank    ? "zremrangebyrank"
                        : kType == RangeType::kScore ? "zremrangebyscore"
                                                     : "zremrangebylex",
                        cmd.args[1]);
  }
  if (z->empty()) {
    cmd.db.Erase(cmd.args[1]);
    NotifyKeyspaceEvent(cmd, kNotifyGeneric, "del", cmd.args[1]);
  }
  cmd.reply.Integer(static_cast<int64_t>(removed));
}

// ---------------------------------------------------------------------------------------------
// ZPOPMIN ZPOPMAX ZMPOP and the blocking pops (Redis's genericZpopCommand and
// blockingGenericZpopCommand)

// Pops up to `count` elements (-1: no COUNT given, one element) from the zset at `e`, deleting
// the key when it empties.
std::vector<ZEntry> PopFrom(Db& db, std::string_view key, Entry* e, bool max, int64_t count) {
  ZSetValue* z = ZSetOf(e);
  size_t n = count < 0 ? 1 : static_cast<size_t>(std::min<uint64_t>(count, z->size()));
  std::vector<ZEntry> popped = z->Pop(n, max);
  db.Notify(kNotifyZset, max ? "zpopmax" : "zpopmin", key);
  if (z->empty()) {
    db.Erase(key);
    db.Notify(kNotifyGeneric, "del", key);
  }
  return popped;
}

// Writes popped elements in Redis's shapes. `emit_key`: the reply starts with the key (BZPOP*,
// *MPOP); `nested`: one [member, score] array per element.
void ReplyPopped(ReplyBuilder& r, std::string_view key, const std::vector<ZEntry>& popped,
                 bool emit_key, bool nested) {
  if (!nested && !emit_key) {
    r.ArrayHeader(popped.size() * 2);
  } else if (nested && !emit_key) {
    r.ArrayHeader(popped.size());
  } else if (!nested && emit_key) {
    r.ArrayHeader(popped.size() * 2 + 1);
    r.Bulk(key);
  } else {
    r.ArrayHeader(2);
    r.Bulk(key);
    r.ArrayHeader(popped.size());
  }
  for (const ZEntry& p : popped) {
    if (nested) r.ArrayHeader(2);
    r.Bulk(p.member);
    r.Double(p.score);
  }
}

void PopAndReply(ShardCommand& cmd, std::string_view key, Entry* e, bool max, int64_t count,
                 bool emit_key, bool nested) {
  ReplyPopped(cmd.reply, key, PopFrom(cmd.db, key, e, max, count), emit_key, nested);
}

template <bool kMax>
void ZpopCommand(ShardCommand& cmd) {
  if (cmd.args.size() > 3) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  int64_t count = -1;
  if (cmd.args.size() == 3 && !ParsePositive(cmd.args[2], &count)) {
    cmd.reply.Error(kMustBePositiveErr);
    return;
  }
  Entry* e = LookupWrite(cmd.db, cmd.args[1]);
  if (e != nullptr && !IsZSet(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (e == nullptr || count == 0) {
    cmd.reply.ArrayHeader(0);
    return;
  }
  PopAndReply(cmd, cmd.args[1], e, kMax, count, false, cmd.reply.resp3() && count != -1);
}

// The first key of `keys` holding a zset (WRONGTYPE replied on an earlier key of another type,
// except when re-run for a blocked client: a key someone turned into another type is then
// skipped, as Redis only serves a waiter from a key of the type it waits for). Null when none;
// *failed tells an error was replied.
Entry* FirstZSet(ShardCommand& cmd, ArgList keys, size_t* index, bool* failed) {
  *failed = false;
  for (size_t i = 0; i < keys.size(); ++i) {
    Entry* e = LookupWrite(cmd.db, keys[i]);
    if (e == nullptr) continue;
    if (!IsZSet(e)) {
      if (cmd.retrying) continue;
      cmd.reply.Error(cmd::kWrongTypeErr);
      *failed = true;
      return nullptr;
    }
    *index = i;
    return e;
  }
  return nullptr;
}

// BZPOPMIN / BZPOPMAX key [key ...] timeout
template <bool kMax>
void BzpopCommand(ShardCommand& cmd) {
  int64_t deadline = 0;
  std::string_view err = cmd::ParseBlockTimeout(cmd.args.back(), cmd.now_ms(), &deadline);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  ArgList keys = cmd.args.subspan(1, cmd.args.size() - 2);
  size_t index = 0;
  bool failed = false;
  Entry* e = FirstZSet(cmd, keys, &index, &failed);
  if (failed) return;
  if (e != nullptr) {
    PopAndReply(cmd, keys[index], e, kMax, -1, true, false);
    return;
  }
  if (!cmd.Block(std::vector<std::string>(keys.begin(), keys.end()), deadline,
                 TimeoutReply::kNullArray)) {
    cmd.reply.NullArray();
  }
}

struct MpopRequest {
  ArgList keys;
  bool max = false;
  int64_t count = 1;
};

// ZMPOP / BZMPOP arguments from the numkeys at `numkeys_index` (Redis's zmpopGenericCommand).
std::string_view ParseMpop(ArgList args, size_t numkeys_index, MpopRequest* req) {
  int64_t numkeys = 0;
  if (!cmd::ParseInt64(args[numkeys_index], &numkeys) || numkeys < 1) return kNumkeysErr;
  if (static_cast<uint64_t>(numkeys) >= args.size() - numkeys_index - 1) return cmd::kSyntaxErr;
  size_t where = numkeys_index + static_cast<size_t>(numkeys) + 1;
  if (cmd::EqualsIgnoreCase(args[where], "min")) {
    req->max = false;
  } else if (cmd::EqualsIgnoreCase(args[where], "max")) {
    req->max = true;
  } else {
    return cmd::kSyntaxErr;
  }
  bool have_count = false;
  for (size_t j = where + 1; j < args.size(); ++j) {
    bool more = j + 1 < args.size();
    if (!have_count && cmd::EqualsIgnoreCase(args[j], "count") && more) {
      ++j;
      if (!cmd::ParseInt64(args[j], &req->count) || req->count < 1) return kCountErr;
      have_count = true;
    } else {
      return cmd::kSyntaxErr;
    }
  }
  req->keys = args.subspan(numkeys_index + 1, static_cast<size_t>(numkeys));
  return {};
}

void ZmpopCommand(ShardCommand& cmd) {
  MpopRequest req;
  std::string_view err = ParseMpop(cmd.args, 1, &req);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  size_t index = 0;
  bool failed = false;
  Entry* e = FirstZSet(cmd, req.keys, &index, &failed);
  if (failed) return;
  if (e == nullptr) {
    cmd.reply.NullArray();
    return;
  }
  PopAndReply(cmd, req.keys[index], e, req.max, req.count, true, true);
}

// ZMPOP whose keys span shards: the keys are examined in order, one run of consecutive keys on
// the same shard per phase, until a phase finds a zset (and pops from it in the same task) or a
// key of another type.
struct MpopState {
  std::vector<std::string> keys;
  std::vector<int> shards;  // of each key
  bool max = false;
  int64_t count = 1;
  size_t next = 0;  // first key not examined yet
  enum class Outcome : uint8_t { kNone, kWrongType, kPopped } outcome = Outcome::kNone;
  size_t popped_key = 0;
  std::vector<ZEntry> popped;
};

template <typename Runner>
void MpopPhase(const std::shared_ptr<MpopState>& st, Runner& runner) {
  size_t end = st->next;
  while (end < st->keys.size() && st->shards[end] == st->shards[st->next]) ++end;
  runner.RunOnShards(
      {st->shards[st->next]},
      [st, end](ShardAccess& a) {
        for (size_t i = st->next; i < end; ++i) {
          Entry* e = LookupWrite(a.db, st->keys[i]);
          if (e == nullptr) continue;
          if (!IsZSet(e)) {
            st->outcome = MpopState::Outcome::kWrongType;
            return;
          }
          st->popped = PopFrom(a.db, st->keys[i], e, st->max, st->count);
          st->popped_key = i;
          st->outcome = MpopState::Outcome::kPopped;
          return;
        }
      },
      [st, end](ReplyBuilder& reply, FanOutRunner& runner) {
        switch (st->outcome) {
          case MpopState::Outcome::kWrongType:
            reply.Error(cmd::kWrongTypeErr);
            return;
          case MpopState::Outcome::kPopped:
            ReplyPopped(reply, st->keys[st->popped_key], st->popped, true, true);
            return;
          case MpopState::Outcome::kNone:
            break;
        }
        st->next = end;
        if (end == st->keys.size()) {
          reply.NullArray();
        } else {
          MpopPhase(st, runner);
        }
      });
}

void ZmpopOnClient(ClientCommand& cmd) {
  MpopRequest req;
  std::string_view err = ParseMpop(cmd.args, 1, &req);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  auto st = std::make_shared<MpopState>();
  for (std::string_view key : req.keys) {
    st->keys.emplace_back(key);
    st->shards.push_back(cmd.ShardOf(key));
  }
  st->max = req.max;
  st->count = req.count;
  MpopPhase(st, cmd);
}

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
void BzmpopCommand(ShardCommand& cmd) {
  MpopRequest req;
  std::string_view err = ParseMpop(cmd.args, 2, &req);
  int64_t deadline = 0;
  if (err.empty()) err = cmd::ParseBlockTimeout(cmd.args[1], cmd.now_ms(), &deadline);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  size_t index = 0;
  bool failed = false;
  Entry* e = FirstZSet(cmd, req.keys, &index, &failed);
  if (failed) return;
  if (e != nullptr) {
    PopAndReply(cmd, req.keys[index], e, req.max, req.count, true, true);
    return;
  }
  if (!cmd.Block(std::vector<std::string>(req.keys.begin(), req.keys.end()), deadline,
                 TimeoutReply::kNullArray)) {
    cmd.reply.NullArray();
  }
}

// Key finders for routing. They report keys only for arguments the handler accepts: anything it
// would refuse yields no keys, so the command runs on the local shard and replies the error
// Redis gives (rather than CROSSSLOT for a "key" that is really a misplaced option).

// ZMPOP numkeys key... / BZMPOP timeout numkeys key...
template <size_t kNumkeysIndex>
void MpopKeys(ArgList args, std::vector<int>* positions) {
  if (args.size() <= kNumkeysIndex + 2) return;  // the arity check replies
  MpopRequest req;
  if (!ParseMpop(args, kNumkeysIndex, &req).empty()) return;
  if (kNumkeysIndex == 2) {
    int64_t deadline = 0;
    if (!cmd::ParseBlockTimeout(args[1], 0, &deadline).empty()) return;
  }
  for (size_t i = 0; i < req.keys.size(); ++i) {
    positions->push_back(static_cast<int>(kNumkeysIndex + 1 + i));
  }
}

// BZPOPMIN / BZPOPMAX key... timeout
void BzpopKeys(ArgList args, std::vector<int>* positions) {
  if (args.size() < 3) return;
  int64_t deadline = 0;
  if (!cmd::ParseBlockTimeout(args.back(), 0, &deadline).empty()) return;
  for (size_t i = 1; i + 1 < args.size(); ++i) positions->push_back(static_cast<int>(i));
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER key [count [WITHSCORES]]

void ZrandmemberWithCount(ShardCommand& cmd, int64_t count, bool withscores) {
  const ZSetValue* z = ReadZSet(cmd, cmd.args[1], [&] { cmd.reply.ArrayHeader(0); });
  if (z == nullptr) return;
  if (count == 0) {
    cmd.reply.ArrayHeader(0);
    return;
  }
  ReplyBuilder& r = cmd.reply;
  const size_t size = z->size();
  const bool uniq = count > 0;
  const uint64_t n = uniq ? static_cast<uint64_t>(count) : 0 - static_cast<uint64_t>(count);
  // Random picks, repeats allowed (negative count, or a single element).
  if (!uniq || n == 1) {
    r.ArrayHeader(PairsLength(r, n, withscores));
    for (uint64_t i = 0; i < n; ++i) {
      ZSetValue::Iterator it = z->At(cmd.shard.Random() % size);
      ReplyPair(r, it.member(), it.score(), withscores);
    }
    return;
  }
  // All of it, in the order Redis's iterator walks it (from the highest).
  if (n >= size) {
    r.ArrayHeader(PairsLength(r, size, withscores));
    for (ZSetValue::Iterator it = z->At(size - 1); it.valid(); it.Prev()) {
      ReplyPair(r, it.member(), it.score(), withscores);
    }
    return;
  }
  // n distinct random elements, in random order.
  std::vector<size_t> ranks;
  ranks.reserve(n);
  if (n * 3 > size) {
    std::vector<size_t> all(size);
    std::iota(all.begin(), all.end(), size_t{0});
    for (size_t i = 0; i < n; ++i) {
      size_t j = i + cmd.shard.Random() % (size - i);
      std::swap(all[i], all[j]);
      ranks.push_back(all[i]);
    }
  } else {
    absl::flat_hash_set<size_t> picked;
    while (ranks.size() < n) {
      size_t rank = cmd.shard.Random() % size;
      if (picked.insert(rank).second) ranks.push_back(rank);
    }
  }
  r.ArrayHeader(PairsLength(r, n, withscores));
  for (size_t rank : ranks) {
    ZSetValue::Iterator it = z->At(rank);
    ReplyPair(r, it.member(), it.score(), withscores);
  }
}

void ZrandmemberCommand(ShardCommand& cmd) {
  ArgList args = cmd.args;
  if (args.size() >= 3) {
    int64_t count = 0;
    if (!cmd::ParseInt64(args[2], &count)) {
      cmd.reply.Error(cmd::kNotIntErr);
      return;
    }
    if (count == INT64_MIN) {
      cmd.reply.Error(
          "ERR value is out of range, value must between -9223372036854775807 and "
          "9223372036854775807");
      return;
    }
    if (args.size() > 4 || (args.size() == 4 && !cmd::EqualsIgnoreCase(args[3], "withscores"))) {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
    bool withscores = args.size() == 4;
    if (withscores && (count < -(INT64_MAX / 2) || count > INT64_MAX / 2)) {
      cmd.reply.Error("ERR value is out of range");
      return;
    }
    ZrandmemberWithCount(cmd, count, withscores);
    return;
  }
  const ZSetValue* z = ReadZSet(cmd, args[1], [&] { cmd.reply.Null(); });
  if (z == nullptr) return;
  cmd.reply.Bulk(z->At(cmd.shard.Random() % z->size()).member());
}

// ---------------------------------------------------------------------------------------------
// ZSCAN key cursor [MATCH pattern] [COUNT count] (Redis's scanGenericCommand on a zset)

// parseScanCursorOrReply: strtoul rules (a sign is accepted, "-1" wraps), no leading space, the
// whole argument, no overflow.
bool ParseScanCursor(std::string_view s, uint64_t* cursor) {
  std::string buf(s);
  if (!buf.empty() && std::isspace(static_cast<unsigned char>(buf[0]))) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(buf.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  *cursor = v;
  return true;
}

void ZscanCommand(ShardCommand& cmd) {
  ArgList args = cmd.args;
  uint64_t cursor = 0;
  if (!ParseScanCursor(args[2], &cursor)) {
    cmd.reply.Error("ERR invalid cursor");
    return;
  }
  const ZSetValue* z = ReadZSet(cmd, args[1], [&] {
    cmd.reply.ArrayHeader(2);
    cmd.reply.Bulk("0");
    cmd.reply.ArrayHeader(0);
  });
  if (z == nullptr) return;
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  for (size_t i = 3; i < args.size(); i += 2) {
    bool has_value = i + 1 < args.size();
    if (cmd::EqualsIgnoreCase(args[i], "count") && has_value) {
      if (!cmd::ParseInt64(args[i + 1], &count)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (count < 1) {
        cmd.reply.Error(cmd::kSyntaxErr);
        return;
      }
    } else if (cmd::EqualsIgnoreCase(args[i], "match") && has_value) {
      pattern = args[i + 1];
      use_pattern = pattern != "*";
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  std::vector<std::pair<std::string, double>> items;
  auto collect = [&](std::string_view m, double s) { items.emplace_back(std::string(m), s); };
  if (z->encoding() == ZSetValue::Encoding::kListpack) {
    cursor = z->Scan(cursor, collect);
  } else {
    // Redis stops once it holds `count` list entries (a member and a score each) or after
    // count * 10 buckets.
    int64_t max_iterations = count > INT64_MAX / 10 ? INT64_MAX : count * 10;
    do {
      cursor = z->Scan(cursor, collect);
    } while (cursor != 0 && max_iterations-- > 0 &&
             static_cast<uint64_t>(items.size()) * 2 < static_cast<uint64_t>(count));
  }
  size_t kept = 0;
  for (const auto& [member, score] : items) {
    if (!use_pattern || GlobMatch(pattern, member)) ++kept;
  }
  cmd.reply.ArrayHeader(2);
  cmd.reply.Bulk(std::to_string(cursor));
  cmd.reply.ArrayHeader(kept * 2);
  for (const auto& [member, score] : items) {
    if (use_pattern && !GlobMatch(pattern, member)) continue;
    cmd.reply.Bulk(member);
    cmd.reply.Bulk(FormatDouble(score));
  }
}

}  // namespace

void RegisterCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr uint32_t kF = kCmdFast;
  constexpr uint32_t kOom = kCmdDenyOom;
  constexpr std::string_view kWriteFast = "@write @sortedset @fast";
  constexpr std::string_view kWriteSlow = "@write @sortedset @slow";
  constexpr std::string_view kReadFast = "@read @sortedset @fast";
  constexpr std::string_view kReadSlow = "@read @sortedset @slow";
  constexpr std::string_view kGroup = "sorted-set";
  const std::vector<CommandSpec> specs = {
      {"zadd", -4, kW | kOom | kF, 1, 1, 1, kWriteFast, kGroup,
       "Add one or more members to a sorted set, or update its score if it already exists", "1.2.0",
       ZaddCommand},
      {"zincrby", 4, kW | kOom | kF, 1, 1, 1, kWriteFast, kGroup,
       "Increment the score of a member in a sorted set", "1.2.0", ZincrbyCommand},
      {"zrem", -3, kW | kF, 1, 1, 1, kWriteFast, kGroup,
       "Remove one or more members from a sorted set", "1.2.0", ZremCommand},
      {"zcard", 2, kR | kF, 1, 1, 1, kReadFast, kGroup, "Get the number of members in a sorted set",
       "1.2.0", ZcardCommand},
      {"zcount", 4, kR | kF, 1, 1, 1, kReadFast, kGroup,
       "Count the members in a sorted set with scores within the given values", "2.0.0",
       ZcountCommand},
      {"zlexcount", 4, kR | kF, 1, 1, 1, kReadFast, kGroup,
       "Count the number of members in a sorted set between a given lexicographical range", "2.8.9",
       ZlexcountCommand},
      {"zscore", 3, kR | kF, 1, 1, 1, kReadFast, kGroup,
       "Get the score associated with the given member in a sorted set", "1.2.0", ZscoreCommand},
      {"zmscore", -3, kR | kF, 1, 1, 1, kReadFast, kGroup,
       "Get the score associated with the given members in a sorted set", "6.2.0", ZmscoreCommand},
      {"zrank", 3, kR | kF, 1, 1, 1, kReadFast, kGroup,
       "Determine the index of a member in a sorted set", "2.0.0", ZrankCommand<false>},
      {"zrevrank", 3, kR | kF, 1, 1, 1, kReadFast, kGroup,
       "Determine the index of a member in a sorted set, with scores ordered from high to low",
       "2.0.0", ZrankCommand<true>},
      {"zrange", -4, kR, 1, 1, 1, kReadSlow, kGroup, "Return a range of members in a sorted set",
       "1.2.0", RangeCommand<RangeType::kAuto, RangeDir::kAuto>},
      {"zrangestore", -5, kW | kOom, 1, 2, 1, kWriteSlow, kGroup,
       "Store a range of members from sorted set into another key", "6.2.0", ZrangestoreOnShard,
       ZrangestoreOnClient},
      {"zrangebyscore", -4, kR, 1, 1, 1, kReadSlow, kGroup,
       "Return a range of members in a sorted set, by score", "1.0.5",
       RangeCommand<RangeType::kScore, RangeDir::kForward>},
      {"zrevrangebyscore", -4, kR, 1, 1, 1, kReadSlow, kGroup,
       "Return a range of members in a sorted set, by score, with scores ordered from high to "
       "low",
       "2.2.0", RangeCommand<RangeType::kScore, RangeDir::kReverse>},
      {"zrangebylex", -4, kR, 1, 1, 1, kReadSlow, kGroup,
       "Return a range of members in a sorted set, by lexicographical range", "2.8.9",
       RangeCommand<RangeType::kLex, RangeDir::kForward>},
      {"zrevrangebylex", -4, kR, 1, 1, 1, kReadSlow, kGroup,
       "Return a range of members in a sorted set, by lexicographical range, ordered from higher "
       "to lower strings.",
       "2.8.9", RangeCommand<RangeType::kLex, RangeDir::kReverse>},
      {"zrevrange", -4, kR, 1, 1, 1, kReadSlow, kGroup,
       "Return a range of members in a sorted set, by index, with scores ordered from high to "
       "low",
       "1.2.0", RangeCommand<RangeType::kRank, RangeDir::kReverse>},
      {"zremrangebyrank", 4, kW, 1, 1, 1, kWriteSlow, kGroup,
       "Remove all members in a sorted set within the given indexes", "2.0.0",
       ZremrangeCommand<RangeType::kRank>},
      {"zremrangebyscore", 4, kW, 1, 1, 1, kWriteSlow, kGroup,
       "Remove all members in a sorted set within the given scores", "1.2.0",
       ZremrangeCommand<RangeType::kScore>},
      {"zremrangebylex", 4, kW, 1, 1, 1, kWriteSlow, kGroup,
       "Remove all members in a sorted set between the given lexicographical range", "2.8.9",
       ZremrangeCommand<RangeType::kLex>},
      {"zpopmin", -2, kW | kF, 1, 1, 1, kWriteFast, kGroup,
       "Remove and return members with the lowest scores in a sorted set", "5.0.0",
       ZpopCommand<false>},
      {"zpopmax", -2, kW | kF, 1, 1, 1, kWriteFast, kGroup,
       "Remove and return members with the highest scores in a sorted set", "5.0.0",
       ZpopCommand<true>},
      {"bzpopmin", -3, kW | kCmdNoscript | kCmdBlocking | kF, 1, -2, 1,
       "@write @sortedset @fast @blocking", kGroup,
       "Remove and return the member with the lowest score from one or more sorted sets, or "
       "block until one is available",
       "5.0.0", BzpopCommand<false>, nullptr, BzpopKeys},
      {"bzpopmax", -3, kW | kCmdNoscript | kCmdBlocking | kF, 1, -2, 1,
       "@write @sortedset @fast @blocking", kGroup,
       "Remove and return the member with the highest score from one or more sorted sets, or "
       "block until one is available",
       "5.0.0", BzpopCommand<true>, nullptr, BzpopKeys},
      {.name = "zmpop",
       .arity = -4,
       .flags = kW | kCmdMovableKeys,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = kWriteSlow,
       .group = kGroup,
       .summary = "Remove and return members with scores in a sorted set",
       .since = "7.0.0",
       .on_shard = ZmpopCommand,
       .on_client = ZmpopOnClient,
       .get_keys = MpopKeys<1>},
      {.name = "bzmpop",
       .arity = -5,
       .flags = kW | kCmdBlocking | kCmdMovableKeys,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = "@write @sortedset @slow @blocking",
       .group = kGroup,
       .summary = "Remove and return members with scores in a sorted set or block until one is "
                  "available",
       .since = "7.0.0",
       .on_shard = BzmpopCommand,
       .get_keys = MpopKeys<2>},
      {"zrandmember", -2, kR, 1, 1, 1, kReadSlow, kGroup,
       "Get one or multiple random elements from a sorted set", "6.2.0", ZrandmemberCommand},
      {"zscan", -3, kR, 1, 1, 1, kReadSlow, kGroup,
       "Incrementally iterate sorted sets elements and associated scores", "2.8.0", ZscanCommand},
  };
  table->insert(table->end(), specs.begin(), specs.end());
  RegisterStoreCommands(table);
}

}  // namespace zset

void RegisterZSetCommands(std::vector<CommandSpec>* table) { zset::RegisterCommands(table); }

}  // namespace shardis
