// The HyperLogLog command family: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST, with
// redis-server 7.0 semantics and error texts. A HyperLogLog is a string value holding Redis's
// exact HLL bytes (storage/hyperloglog.h), so GET/SET move HLLs between Shardis and Redis.
//
// PFADD and PFDEBUG name one key and run on its shard. PFCOUNT and PFMERGE run on the owning shard
// when all their keys share it; otherwise their on_client handlers fan out: every shard merges the
// registers of the keys it owns into its own slot (one RawRegisters per shard) and records each
// key's status, and the connection's thread reports the first error in argument order or
// combines the slots. PFMERGE then stores the merged registers on the destination's shard as a
// second phase (not atomic across shards: the destination is validated again there).
// PFSELFTEST runs on the connection's own shard and touches no data.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/config.h"
#include "storage/db.h"
#include "storage/hyperloglog.h"
#include "storage/value.h"

namespace shardis {
namespace {

constexpr std::string_view kInvalidHllErr =
    "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr std::string_view kCorruptHllErr = "INVALIDOBJ Corrupted HLL object detected";

void Touch(Entry* e, int64_t now_ms) { e->set_access_time(now_ms); }

size_t SparseMax(const Config& config) {
  return static_cast<size_t>(std::max(config.hll_sparse_max_bytes, 0));
}

// What a key holds, as the HLL commands see it (in order of the checks of isHLLObjectOrReply and
// hllMerge).
enum class HllStatus : uint8_t {
  kMissing,
  kOk,
  kWrongType,  // not a string
  kInvalid,    // a string that is not an HLL
  kCorrupt,    // an HLL whose sparse opcodes do not add up
};

HllStatus Check(const Entry* e) {
  if (e->type() != ValueType::kString) return HllStatus::kWrongType;
  if (e->encoding() == StringEncoding::kInt) return HllStatus::kInvalid;  // not sds-encoded
  return hll::IsValid(e->str()) ? HllStatus::kOk : HllStatus::kInvalid;
}

// Writes the error of a failed status; false when there is none.
bool ReplyStatusError(ReplyBuilder& reply, HllStatus status) {
  switch (status) {
    case HllStatus::kWrongType:
      reply.Error(cmd::kWrongTypeErr);
      return true;
    case HllStatus::kInvalid:
      reply.Error(kInvalidHllErr);
      return true;
    case HllStatus::kCorrupt:
      reply.Error(kCorruptHllErr);
      return true;
    case HllStatus::kMissing:
    case HllStatus::kOk:
      return false;
  }
  return false;
}

// Redis's dbUnshareStringValue: the value is modified in place, so it becomes a raw string.
void Unshare(Entry* e) { e->set_encoding(StringEncoding::kRaw); }

// Merges the HLL at `key` into `max` (PFCOUNT of many keys, PFMERGE's sources); *dense is set
// when it is a dense HLL.
HllStatus MergeKey(Db& db, std::string_view key, hll::RawRegisters* max, bool* dense) {
  Entry* e = db.Lookup(key);
  if (e == nullptr) return HllStatus::kMissing;
  HllStatus status = Check(e);
  if (status != HllStatus::kOk) return status;
  if (hll::EncodingOf(e->str()) == hll::kDense) *dense = true;
  return hll::Merge(max, e->str()) ? HllStatus::kOk : HllStatus::kCorrupt;
}

// PFMERGE's last step on the destination's shard: create or unshare it, then store `max`.
HllStatus StoreMerged(Db& db, std::string_view key, const hll::RawRegisters& max, bool to_dense,
                      size_t sparse_max) {
  Entry* e = db.Find(key);
  if (e == nullptr) {
    e = db.Set(key, Value::RawString(hll::CreateSparse()));
  } else {
    // Validated with the sources; checked again for the cross-shard case, where the key may
    // have changed between the phases.
    HllStatus status = Check(e);
    if (status != HllStatus::kOk) return status;
  }
  Touch(e, db.now_ms());
  std::string hll(e->str());
  if (!hll::Store(&hll, max, to_dense, sparse_max)) return HllStatus::kCorrupt;
  db.SetString(e, hll, StringEncoding::kRaw);
  db.Notify(kNotifyString, "pfadd", key);  // PFMERGE's event, as Redis names it
  return HllStatus::kOk;
}

// ---------------------------------------------------------------------------------------------
// PFADD.

void PfAddCmd(ShardCommand& c) {
  std::string_view key = c.args[1];
  Entry* e = c.db.Find(key);
  int64_t updated = 0;
  if (e == nullptr) {
    e = c.db.Set(key, Value::RawString(hll::CreateSparse()));
    ++updated;
  } else {
    if (ReplyStatusError(c.reply, Check(e))) return;
    Unshare(e);
  }
  Touch(e, c.now_ms());
  size_t sparse_max = SparseMax(c.config);
  if (hll::EncodingOf(e->str()) == hll::kDense) {
    // A dense HLL keeps its size: update the value's bytes in place.
    char* bytes = c.db.ResizeString(e, e->str().size());
    for (size_t j = 2; j < c.args.size(); ++j) updated += hll::AddDense(bytes, c.args[j]);
    if (updated != 0) {
      hll::InvalidateCache(bytes);
      NotifyKeyspaceEvent(c, kNotifyString, "pfadd", key);
    }
    c.reply.Integer(updated != 0 ? 1 : 0);
    return;
  }
  // A sparse HLL may grow or turn dense: work on a copy, store it if it changed.
  std::string hll(e->str());
  int64_t changed = 0;
  for (size_t j = 2; j < c.args.size(); ++j) {
    int r = hll::Add(&hll, c.args[j], sparse_max);
    if (r < 0) {
      c.reply.Error(kCorruptHllErr);
      return;
    }
    changed += r;
  }
  if (updated + changed != 0) {
    hll::InvalidateCache(&hll);
    c.db.SetString(e, hll, StringEncoding::kRaw);
  }
  updated += changed;
  if (updated != 0) NotifyKeyspaceEvent(c, kNotifyString, "pfadd", key);
  c.reply.Integer(updated != 0 ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// PFCOUNT.

void PfCountShard(ShardCommand& c) {
  if (c.args.size() > 2) {
    // The cardinality of the union; the keys are left untouched.
    auto max = std::make_unique<hll::RawRegisters>();
    max->fill(0);
    bool dense = false;
    for (size_t j = 1; j < c.args.size(); ++j) {
      if (ReplyStatusError(c.reply, MergeKey(c.db, c.args[j], max.get(), &dense))) return;
    }
    c.reply.Integer(static_cast<int64_t>(hll::CountRaw(*max)));
    return;
  }
  // One key: the cached cardinality, or a fresh count that is cached in the header (a write to
  // the value, as in Redis).
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.Integer(0);
    return;
  }
  if (ReplyStatusError(c.reply, Check(e))) return;
  Unshare(e);
  uint64_t card;
  if (!hll::CachedCardinality(e->str(), &card)) {
    if (!hll::Count(e->str(), &card)) {
      c.reply.Error(kCorruptHllErr);
      return;
    }
    hll::SetCachedCardinality(c.db.ResizeString(e, e->str().size()), card);  // in place
  }
  c.reply.Integer(static_cast<int64_t>(card));
}

// Fan-out state of PFCOUNT / PFMERGE over keys on several shards. Each task writes only its own
// shard's slots.
struct MergeState {
  std::vector<std::string> keys;            // argument order
  std::vector<int> owner;                   // key index -> shard
  std::vector<HllStatus> status;            // key index -> what its shard found
  std::vector<hll::RawRegisters> max;       // shard -> merge of its keys
  std::vector<uint8_t> dense;               // shard -> one of its HLLs is dense
  HllStatus store_status = HllStatus::kOk;  // PFMERGE phase 2, written by the dest's shard
  size_t sparse_max = 0;                    // PFMERGE phase 2: the dest shard's config
};

std::shared_ptr<MergeState> MakeMergeState(ClientCommand& cmd, std::vector<int>* shards) {
  auto st = std::make_shared<MergeState>();
  st->keys.assign(cmd.args.begin() + 1, cmd.args.end());
  st->owner.resize(st->keys.size());
  st->status.assign(st->keys.size(), HllStatus::kMissing);
  st->max.resize(cmd.shard_count());
  for (hll::RawRegisters& m : st->max) m.fill(0);
  st->dense.assign(cmd.shard_count(), 0);
  std::vector<uint8_t> used(cmd.shard_count(), 0);
  for (size_t i = 0; i < st->keys.size(); ++i) {
    st->owner[i] = cmd.ShardOf(st->keys[i]);
    used[st->owner[i]] = 1;
  }
  for (int s = 0; s < cmd.shard_count(); ++s) {
    if (used[s]) shards->push_back(s);
  }
  return st;
}

void MergeTask(MergeState& st, ShardAccess& a) {
  bool dense = false;
  for (size_t i = 0; i < st.keys.size(); ++i) {
    if (st.owner[i] != a.shard_index) continue;
    st.status[i] = MergeKey(a.db, st.keys[i], &st.max[a.shard_index], &dense);
  }
  st.dense[a.shard_index] = dense ? 1 : 0;
}

// The first error in argument order, as Redis's sequential loop would report it.
bool ReplyFirstError(ReplyBuilder& reply, const MergeState& st) {
  for (HllStatus s : st.status) {
    if (ReplyStatusError(reply, s)) return true;
  }
  return false;
}

// Combines the shards' registers into slot 0 of `st.max`.
void CombineSlots(MergeState& st) {
  for (size_t s = 1; s < st.max.size(); ++s) {
    for (int j = 0; j < hll::kRegisters; ++j) {
      if (st.max[s][j] > st.max[0][j]) st.max[0][j] = st.max[s][j];
    }
  }
}

void PfCountClient(ClientCommand& cmd) {
  std::vector<int> shards;
  std::shared_ptr<MergeState> st = MakeMergeState(cmd, &shards);
  cmd.RunOnShards(
      std::move(shards), [st](ShardAccess& a) { MergeTask(*st, a); },
      [st](ReplyBuilder& reply, FanOutRunner&) {
        if (ReplyFirstError(reply, *st)) return;
        CombineSlots(*st);
        reply.Integer(static_cast<int64_t>(hll::CountRaw(st->max[0])));
      });
}

// ---------------------------------------------------------------------------------------------
// PFMERGE.

void PfMergeShard(ShardCommand& c) {
  auto max = std::make_unique<hll::RawRegisters>();
  max->fill(0);
  bool use_dense = false;
  for (size_t j = 1; j < c.args.size(); ++j) {
    if (ReplyStatusError(c.reply, MergeKey(c.db, c.args[j], max.get(), &use_dense))) return;
  }
  if (ReplyStatusError(c.reply,
                       StoreMerged(c.db, c.args[1], *max, use_dense, SparseMax(c.config)))) {
    return;
  }
  c.reply.Ok();
}

void PfMergeClient(ClientCommand& cmd) {
  std::vector<int> shards;
  std::shared_ptr<MergeState> st = MakeMergeState(cmd, &shards);
  int dest_shard = st->owner[0];
  cmd.RunOnShards(
      std::move(shards), [st](ShardAccess& a) { MergeTask(*st, a); },
      [st, dest_shard](ReplyBuilder& reply, FanOutRunner& runner) {
        if (ReplyFirstError(reply, *st)) return;
        CombineSlots(*st);
        bool use_dense = false;
        for (uint8_t d : st->dense) use_dense |= d != 0;
        runner.RunOnShards(
            {dest_shard},
            [st, use_dense](ShardAccess& a) {
              st->store_status =
                  StoreMerged(a.db, st->keys[0], st->max[0], use_dense, SparseMax(a.config));
            },
            [st](ReplyBuilder& reply, FanOutRunner&) {
              if (!ReplyStatusError(reply, st->store_status)) reply.Ok();
            });
      });
}

// ---------------------------------------------------------------------------------------------
// PFDEBUG, PFSELFTEST.

void PfDebugCmd(ShardCommand& c) {
  std::string_view sub = c.args[1];
  Entry* e = c.db.Find(c.args[2]);
  if (e == nullptr) {
    c.reply.Error("ERR The specified key does not exist");
    return;
  }
  Touch(e, c.now_ms());
  if (ReplyStatusError(c.reply, Check(e))) return;
  Unshare(e);
  // A copy to work on, stored back by the subcommands that convert it to dense.
  std::string s(e->str());
  if (cmd::EqualsIgnoreCase(sub, "getreg")) {
    if (hll::EncodingOf(s) == hll::kSparse && !hll::SparseToDense(&s)) {
      c.reply.Error(kCorruptHllErr);
      return;
    }
    c.db.SetString(e, s, StringEncoding::kRaw);
    const uint8_t* registers = reinterpret_cast<const uint8_t*>(s.data()) + hll::kHeaderSize;
    c.reply.ArrayHeader(hll::kRegisters);
    for (int j = 0; j < hll::kRegisters; ++j) c.reply.Integer(hll::DenseGet(registers, j));
  } else if (cmd::EqualsIgnoreCase(sub, "decode")) {
    if (hll::EncodingOf(s) != hll::kSparse) {
      c.reply.Error("ERR HLL encoding is not sparse");
      return;
    }
    c.reply.Bulk(hll::DecodeSparse(s));
  } else if (cmd::EqualsIgnoreCase(sub, "encoding")) {
    c.reply.SimpleString(hll::EncodingOf(s) == hll::kDense ? "dense" : "sparse");
  } else if (cmd::EqualsIgnoreCase(sub, "todense")) {
    bool converted = false;
    if (hll::EncodingOf(s) == hll::kSparse) {
      if (!hll::SparseToDense(&s)) {
        c.reply.Error(kCorruptHllErr);
        return;
      }
      converted = true;
      c.db.SetString(e, s, StringEncoding::kRaw);
    }
    c.reply.Integer(converted ? 1 : 0);
  } else {
    c.reply.Error(Cat("ERR Unknown PFDEBUG subcommand '", sub, "'"));
  }
}

// Redis's pfselftestCommand: dense register access, then 10M adds to a dense and a sparse HLL
// checking sparse use at small sizes, sparse/dense agreement and the error at every power of ten.
void PfSelfTestCmd(ShardCommand& c) {
  constexpr int kCycles = 1000;
  std::mt19937_64 rng(std::random_device{}());
  std::string dense(hll::kDenseSize, '\0');
  std::memcpy(dense.data(), "HYLL", 4);
  auto* registers = reinterpret_cast<uint8_t*>(dense.data()) + hll::kHeaderSize;
  std::vector<uint8_t> bytes(hll::kRegisters);
  for (int j = 0; j < kCycles; ++j) {
    for (int i = 0; i < hll::kRegisters; ++i) {
      bytes[i] = static_cast<uint8_t>(rng() & hll::kRegisterMax);
      hll::DenseSet(registers, i, bytes[i]);
    }
    for (int i = 0; i < hll::kRegisters; ++i) {
      uint8_t val = hll::DenseGet(registers, i);
      if (val != bytes[i]) {
        c.reply.Error(Cat("TESTFAILED Register ", i, " should be ", static_cast<int>(bytes[i]),
                          " but is ", static_cast<int>(val)));
        return;
      }
    }
  }
  std::memset(registers, 0, hll::kDenseSize - hll::kHeaderSize);
  std::string sparse = hll::CreateSparse();
  size_t sparse_max = SparseMax(c.config);
  double relerr = 1.04 / std::sqrt(static_cast<double>(hll::kRegisters));
  int64_t checkpoint = 1;
  uint64_t seed = rng();
  for (int64_t j = 1; j <= 10000000; ++j) {
    uint64_t ele = static_cast<uint64_t>(j) ^ seed;
    std::string_view e(reinterpret_cast<const char*>(&ele), sizeof(ele));
    hll::Add(&dense, e, sparse_max);
    hll::Add(&sparse, e, sparse_max);
    if (j != checkpoint) continue;
    if (j < static_cast<int64_t>(sparse_max / 2) && hll::EncodingOf(sparse) != hll::kSparse) {
      c.reply.Error("TESTFAILED sparse encoding not used");
      return;
    }
    uint64_t dense_card = 0, sparse_card = 0;
    hll::Count(dense, &dense_card);
    hll::Count(sparse, &sparse_card);
    if (dense_card != sparse_card) {
      c.reply.Error("TESTFAILED dense/sparse disagree");
      return;
    }
    int64_t abserr = checkpoint - static_cast<int64_t>(dense_card);
    uint64_t maxerr =
        static_cast<uint64_t>(std::ceil(relerr * 6 * static_cast<double>(checkpoint)));
    if (j == 10) maxerr = 1;
    if (abserr < 0) abserr = -abserr;
    if (abserr > static_cast<int64_t>(maxerr)) {
      c.reply.Error(Cat("TESTFAILED Too big error. card:", checkpoint, " abserr:", abserr));
      return;
    }
    checkpoint *= 10;
  }
  c.reply.Ok();
}

}  // namespace

void RegisterHyperLogLogCommands(std::vector<CommandSpec>* table) {
  const std::vector<CommandSpec> specs = {
      {.name = "pfadd",
       .arity = -2,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @hyperloglog @fast",
       .group = "hyperloglog",
       .summary = "Adds the specified elements to the specified HyperLogLog.",
       .since = "2.8.9",
       .on_shard = PfAddCmd},
      {.name = "pfcount",
       .arity = -2,
       .flags = kCmdReadonly,
       .first_key = 1,
       .last_key = -1,
       .key_step = 1,
       .acl_categories = "@read @hyperloglog @slow",
       .group = "hyperloglog",
       .summary = "Return the approximated cardinality of the set(s) observed by the "
                  "HyperLogLog at key(s).",
       .since = "2.8.9",
       .on_shard = PfCountShard,
       .on_client = PfCountClient},
      {.name = "pfmerge",
       .arity = -2,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = -1,
       .key_step = 1,
       .acl_categories = "@write @hyperloglog @slow",
       .group = "hyperloglog",
       .summary = "Merge N different HyperLogLogs into a single one.",
       .since = "2.8.9",
       .on_shard = PfMergeShard,
       .on_client = PfMergeClient},
      {.name = "pfdebug",
       .arity = 3,
       .flags = kCmdWrite | kCmdDenyOom | kCmdAdmin,
       .first_key = 2,
       .last_key = 2,
       .key_step = 1,
       .acl_categories = "@write @hyperloglog @admin @slow @dangerous",
       .group = "hyperloglog",
       .summary = "Internal commands for debugging HyperLogLog values",
       .since = "2.8.9",
       .on_shard = PfDebugCmd},
      {.name = "pfselftest",
       .arity = 1,
       .flags = kCmdAdmin,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = "@hyperloglog @admin @slow @dangerous",
       .group = "hyperloglog",
       .summary = "An internal command for testing HyperLogLog values",
       .since = "2.8.9",
       .on_shard = PfSelfTestCmd},
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
