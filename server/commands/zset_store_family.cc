// The sorted-set operations over several keys: ZUNION ZINTER ZDIFF, ZUNIONSTORE ZINTERSTORE
// ZDIFFSTORE and ZINTERCARD (Redis's zunionInterDiffGenericCommand), with WEIGHTS, AGGREGATE
// SUM|MIN|MAX and plain sets as inputs (every member scoring 1).
//
// Their keys follow a numkeys argument, so the table finds them with a key finder (get_keys).
// When every key lives on one shard, the on_shard handler computes in place on that shard's
// thread. Otherwise the on_client handler (connection's thread) fans out: each shard's task
// copies the inputs it owns into its own slot; the result is computed back on the connection's
// thread and, for the *STORE commands, written by a second phase on the destination's shard.
// Cross-shard runs are correct but not atomic.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/command.h"
#include "server/commands/zset_family.h"
#include "server/config.h"
#include "storage/set_value.h"
#include "storage/shard_data.h"

namespace shardis::zset {
namespace {

enum class SetOp : uint8_t { kUnion, kInter, kDiff };
enum class Aggregate : uint8_t { kSum, kMin, kMax };

struct SetOpRequest {
  SetOp op = SetOp::kUnion;
  bool store = false;
  bool card_only = false;
  std::vector<std::string> keys;  // the inputs, in argument order
  std::vector<double> weights;    // one per input
  Aggregate aggregate = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;  // ZINTERCARD: 0 = no limit
  // Redis checks the inputs' types before it parses the options, so an option error is replied
  // only once every input has proven to be a set or a sorted set.
  std::string_view option_error;
};

// Parses numkeys, the keys and the options. Returns an error to reply at once (bad numkeys), or
// "" (option errors go to req->option_error). `name`: the command, for Redis's message.
std::string ParseSetOp(ArgList args, size_t numkeys_index, std::string_view name,
                       SetOpRequest* req) {
  int64_t numkeys = 0;
  if (!cmd::ParseInt64(args[numkeys_index], &numkeys)) return std::string(cmd::kNotIntErr);
  if (numkeys < 1) {
    return Cat("ERR at least 1 input key is needed for '", name, "' command");
  }
  if (static_cast<uint64_t>(numkeys) > args.size() - numkeys_index - 1) {
    return std::string(cmd::kSyntaxErr);
  }
  size_t n = static_cast<size_t>(numkeys);
  size_t j = numkeys_index + 1;
  for (size_t i = 0; i < n; ++i) req->keys.emplace_back(args[j + i]);
  req->weights.assign(n, 1.0);
  j += n;
  const bool weights_ok = req->op != SetOp::kDiff && !req->card_only;
  while (j < args.size()) {
    size_t remaining = args.size() - j;
    std::string_view opt = args[j];
    if (weights_ok && remaining >= n + 1 && cmd::EqualsIgnoreCase(opt, "weights")) {
      ++j;
      for (size_t i = 0; i < n; ++i, ++j) {
        if (!ParseScore(args[j], &req->weights[i])) {
          req->option_error = "ERR weight value is not a float";
          return {};
        }
      }
    } else if (weights_ok && remaining >= 2 && cmd::EqualsIgnoreCase(opt, "aggregate")) {
      std::string_view how = args[j + 1];
      if (cmd::EqualsIgnoreCase(how, "sum")) {
        req->aggregate = Aggregate::kSum;
      } else if (cmd::EqualsIgnoreCase(how, "min")) {
        req->aggregate = Aggregate::kMin;
      } else if (cmd::EqualsIgnoreCase(how, "max")) {
        req->aggregate = Aggregate::kMax;
      } else {
        req->option_error = cmd::kSyntaxErr;
        return {};
      }
      j += 2;
    } else if (!req->store && !req->card_only && cmd::EqualsIgnoreCase(opt, "withscores")) {
      req->withscores = true;
      ++j;
    } else if (req->card_only && remaining >= 2 && cmd::EqualsIgnoreCase(opt, "limit")) {
      if (!cmd::ParseInt64(args[j + 1], &req->limit) || req->limit < 0) {
        req->option_error = "ERR LIMIT can't be negative";
        return {};
      }
      j += 2;
    } else {
      req->option_error = cmd::kSyntaxErr;
      return {};
    }
  }
  return {};
}

// Key finder: [dst] numkeys key... when numkeys is valid; otherwise none (the handler replies
// the error wherever it runs).
template <bool kStore>
void SetOpKeys(ArgList args, std::vector<int>* positions) {
  const size_t idx = kStore ? 2 : 1;
  int64_t n = 0;
  if (args.size() <= idx || !cmd::ParseInt64(args[idx], &n) || n < 1 ||
      static_cast<uint64_t>(n) > args.size() - idx - 1) {
    return;
  }
  if (kStore) positions->push_back(1);
  for (int64_t i = 0; i < n; ++i) positions->push_back(static_cast<int>(idx + 1 + i));
}

// One input: a sorted set, a set (scores 1), or nothing (a missing key).
struct Input {
  const ZSetValue* zset = nullptr;
  const SetValue* set = nullptr;
  double weight = 1;

  size_t size() const { return zset != nullptr ? zset->size() : set != nullptr ? set->size() : 0; }
  bool Find(std::string_view member, double* score) const {
    if (zset != nullptr) return zset->Score(member, score);
    if (set != nullptr && set->Contains(member)) {
      *score = 1.0;
      return true;
    }
    return false;
  }
  // fn(member, score) for every element; the member view lasts for the call only.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (zset != nullptr) {
      zset->ForEach(fn);
    } else if (set != nullptr) {
      set->ForEach([&](std::string_view m) { fn(m, 1.0); });
    }
  }
};

// False when the value is neither a sorted set nor a set.
bool InputOf(ValueType type, Collection* c, Input* in) {
  if (type == ValueType::kZSet) {
    in->zset = static_cast<ZSetValue*>(c);
    return true;
  }
  if (type == ValueType::kSet) {
    in->set = static_cast<SetValue*>(c);
    return true;
  }
  return false;
}

// Redis's zunionInterAggregate (a SUM of +inf and -inf is 0).
void AggregateInto(double* target, double value, Aggregate how) {
  switch (how) {
    case Aggregate::kSum:
      *target = *target + value;
      if (std::isnan(*target)) *target = 0.0;
      break;
    case Aggregate::kMin:
      *target = value < *target ? value : *target;
      break;
    case Aggregate::kMax:
      *target = value > *target ? value : *target;
      break;
  }
}

struct SetOpResult {
  std::vector<ZEntry> entries;  // sorted by (score, member)
  int64_t cardinality = 0;      // ZINTERCARD
};

SetOpResult Compute(const SetOpRequest& req, std::vector<Input> inputs) {
  SetOpResult res;
  for (size_t i = 0; i < inputs.size(); ++i) inputs[i].weight = req.weights[i];
  if (req.op != SetOp::kDiff) {
    // Smallest first, as Redis (its qsort is a stable merge sort): the aggregation order
    // matters for sums of +inf and -inf and for rounding.
    std::stable_sort(inputs.begin(), inputs.end(),
                     [](const Input& a, const Input& b) { return a.size() < b.size(); });
  }
  switch (req.op) {
    case SetOp::kUnion: {
      absl::flat_hash_map<std::string, double> acc;
      acc.reserve(inputs.empty() ? 0 : inputs.back().size());
      for (const Input& in : inputs) {
        in.ForEach([&](std::string_view m, double s) {
          double score = in.weight * s;
          if (std::isnan(score)) score = 0;
          auto it = acc.find(AV(m));
          if (it == acc.end()) {
            acc.emplace(std::string(m), score);
          } else {
            AggregateInto(&it->second, score, req.aggregate);
          }
        });
      }
      res.entries.reserve(acc.size());
      for (auto& [member, score] : acc) res.entries.push_back({member, score});
      break;
    }
    case SetOp::kInter: {
      if (inputs[0].size() == 0) break;
      bool stop = false;
      inputs[0].ForEach([&](std::string_view m, double s) {
        if (stop) return;
        double score = inputs[0].weight * s;
        if (std::isnan(score)) score = 0;
        for (size_t j = 1; j < inputs.size(); ++j) {
          double value = 0;
          if (!inputs[j].Find(m, &value)) return;
          AggregateInto(&score, value * inputs[j].weight, req.aggregate);
        }
        if (req.card_only) {
          ++res.cardinality;
          if (req.limit > 0 && res.cardinality >= req.limit) stop = true;
        } else {
          res.entries.push_back({std::string(m), score});
        }
      });
      break;
    }
    case SetOp::kDiff: {
      if (inputs[0].size() == 0) break;
      inputs[0].ForEach([&](std::string_view m, double s) {
        double unused = 0;
        for (size_t j = 1; j < inputs.size(); ++j) {
          if (inputs[j].Find(m, &unused)) return;
        }
        res.entries.push_back({std::string(m), s});
      });
      break;
    }
  }
  std::sort(res.entries.begin(), res.entries.end(), [](const ZEntry& a, const ZEntry& b) {
    return a.score < b.score || (a.score == b.score && a.member < b.member);
  });
  return res;
}

// The reply of the non-storing forms.
void ReplyResult(ReplyBuilder& reply, const SetOpRequest& req, const SetOpResult& res) {
  if (req.card_only) {
    reply.Integer(res.cardinality);
    return;
  }
  reply.ArrayHeader(PairsLength(reply, res.entries.size(), req.withscores));
  for (const ZEntry& e : res.entries) ReplyPair(reply, e.member, e.score, req.withscores);
}

template <SetOp kOp, bool kStore, bool kCard>
SetOpRequest NewRequest() {
  SetOpRequest req;
  req.op = kOp;
  req.store = kStore;
  req.card_only = kCard;
  return req;
}

// The command's canonical name, as Redis's c->cmd->fullname in its messages.
template <SetOp kOp, bool kStore, bool kCard>
constexpr std::string_view CommandName() {
  if (kCard) return "zintercard";
  switch (kOp) {
    case SetOp::kUnion:
      return kStore ? "zunionstore" : "zunion";
    case SetOp::kInter:
      return kStore ? "zinterstore" : "zinter";
    case SetOp::kDiff:
      return kStore ? "zdiffstore" : "zdiff";
  }
  return "";
}

template <SetOp kOp, bool kStore, bool kCard>
void SetOpOnShard(ShardCommand& cmd) {
  SetOpRequest req = NewRequest<kOp, kStore, kCard>();
  std::string err = ParseSetOp(cmd.args, kStore ? 2 : 1, CommandName<kOp, kStore, kCard>(), &req);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  std::vector<Input> inputs(req.keys.size());
  for (size_t i = 0; i < req.keys.size(); ++i) {
    Entry* e = LookupRead(cmd.db, req.keys[i]);
    if (e != nullptr && !InputOf(e->type(), e->collection(), &inputs[i])) {
      cmd.reply.Error(cmd::kWrongTypeErr);
      return;
    }
  }
  if (!req.option_error.empty()) {
    cmd.reply.Error(req.option_error);
    return;
  }
  SetOpResult res = Compute(req, std::move(inputs));
  if (!kStore) {
    ReplyResult(cmd.reply, req, res);
    return;
  }
  int64_t count = static_cast<int64_t>(res.entries.size());
  StoreResult(cmd.db, cmd.args[1], std::move(res.entries), CommandName<kOp, kStore, kCard>().data(),
              LimitsOf(cmd.config));
  cmd.reply.Integer(count);
}

// Cross-shard state. Slot s of `values` / `wrong_type` is written only by shard s's task.
struct SetOpState {
  SetOpRequest req;
  std::string dst;
  std::vector<std::vector<std::string>> shard_keys;  // distinct input keys per shard
  std::vector<std::vector<Value>> values;            // their snapshots (empty string: missing)
  std::vector<char> wrong_type;
  std::vector<std::pair<int, size_t>> input_slot;  // input i -> (shard, index in its slot)
  SetOpResult result;
};

template <SetOp kOp, bool kStore, bool kCard>
void SetOpOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<SetOpState>();
  st->req = NewRequest<kOp, kStore, kCard>();
  std::string err =
      ParseSetOp(cmd.args, kStore ? 2 : 1, CommandName<kOp, kStore, kCard>(), &st->req);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  if (kStore) st->dst = std::string(cmd.args[1]);
  int shards = cmd.shard_count();
  st->shard_keys.resize(shards);
  st->values.resize(shards);
  st->wrong_type.assign(shards, 0);
  std::vector<int> targets;
  for (const std::string& key : st->req.keys) {
    int s = cmd.ShardOf(key);
    std::vector<std::string>& owned = st->shard_keys[s];
    if (owned.empty()) targets.push_back(s);
    size_t k = std::find(owned.begin(), owned.end(), key) - owned.begin();
    if (k == owned.size()) owned.push_back(key);
    st->input_slot.emplace_back(s, k);
  }
  int dst_shard = kStore ? cmd.ShardOf(st->dst) : 0;
  cmd.RunOnShards(
      std::move(targets),
      [st](ShardAccess& a) {
        const std::vector<std::string>& keys = st->shard_keys[a.shard_index];
        std::vector<Value>& out = st->values[a.shard_index];
        out.resize(keys.size());
        for (size_t k = 0; k < keys.size(); ++k) {
          Entry* e = LookupRead(a.db, keys[k]);
          if (e == nullptr) continue;
          if (e->type() != ValueType::kZSet && e->type() != ValueType::kSet) {
            st->wrong_type[a.shard_index] = 1;
            return;
          }
          out[k] = e->ToValue();  // a deep copy
        }
      },
      [st, dst_shard](ReplyBuilder& reply, FanOutRunner& runner) {
        for (char wrong : st->wrong_type) {
          if (wrong) {
            reply.Error(cmd::kWrongTypeErr);
            return;
          }
        }
        if (!st->req.option_error.empty()) {
          reply.Error(st->req.option_error);
          return;
        }
        std::vector<Input> inputs(st->req.keys.size());
        for (size_t i = 0; i < inputs.size(); ++i) {
          auto [s, k] = st->input_slot[i];
          InputOf(st->values[s][k].type, st->values[s][k].coll.get(),
                  &inputs[i]);  // a missing key stays an empty input
        }
        st->result = Compute(st->req, std::move(inputs));
        st->values.clear();
        if (!kStore) {
          ReplyResult(reply, st->req, st->result);
          return;
        }
        runner.RunOnShards(
            {dst_shard},
            [st](ShardAccess& a) {
              StoreResult(a.db, st->dst, st->result.entries,
                          CommandName<kOp, kStore, kCard>().data(), LimitsOf(a.config));
            },
            [st](ReplyBuilder& reply, FanOutRunner&) {
              reply.Integer(static_cast<int64_t>(st->result.entries.size()));
            });
      });
}

template <SetOp kOp, bool kStore, bool kCard>
CommandSpec Spec(std::string_view summary, std::string_view since) {
  CommandSpec spec{};
  spec.name = CommandName<kOp, kStore, kCard>();
  spec.arity = kStore ? -4 : -3;
  spec.flags = (kStore ? kCmdWrite | kCmdDenyOom : kCmdReadonly) | kCmdMovableKeys;
  spec.first_key = kStore ? 1 : 0;
  spec.last_key = kStore ? 1 : 0;
  spec.key_step = kStore ? 1 : 0;
  spec.acl_categories = kStore ? "@write @sortedset @slow" : "@read @sortedset @slow";
  spec.group = "sorted-set";
  spec.summary = summary;
  spec.since = since;
  spec.on_shard = SetOpOnShard<kOp, kStore, kCard>;
  spec.on_client = SetOpOnClient<kOp, kStore, kCard>;
  spec.get_keys = SetOpKeys<kStore>;
  return spec;
}

}  // namespace

void RegisterStoreCommands(std::vector<CommandSpec>* table) {
  table->push_back(Spec<SetOp::kUnion, false, false>("Add multiple sorted sets", "6.2.0"));
  table->push_back(Spec<SetOp::kInter, false, false>("Intersect multiple sorted sets", "6.2.0"));
  table->push_back(Spec<SetOp::kDiff, false, false>("Subtract multiple sorted sets", "6.2.0"));
  table->push_back(Spec<SetOp::kUnion, true, false>(
      "Add multiple sorted sets and store the resulting sorted set in a new key", "2.0.0"));
  table->push_back(Spec<SetOp::kInter, true, false>(
      "Intersect multiple sorted sets and store the resulting sorted set in a new key", "2.0.0"));
  table->push_back(Spec<SetOp::kDiff, true, false>(
      "Subtract multiple sorted sets and store the resulting sorted set in a new key", "6.2.0"));
  table->push_back(Spec<SetOp::kInter, false, true>(
      "Intersect multiple sorted sets and return the cardinality of the result", "7.0.0"));
}

}  // namespace shardis::zset
