// DEBUG DIGEST and DEBUG DIGEST-VALUE: a 160-bit fingerprint of the whole dataset, or of single
// values, as 40 hex digits. Redis's test suites compare them before and after a reload, a
// RESTORE or an AOF rewrite, so what matters is that equal data gives equal digests whatever its
// internal encoding or iteration order; the digits themselves are our own (redis-server's are
// not reproduced), except that an empty dataset and a missing key give 40 zeros, as in Redis.
//
// Each shard digests the keys it owns on its own thread (a fan-out); the connection's thread
// combines the parts. The dataset digest is the XOR of one digest per key (key, database, type,
// value, expiry), so the order in which shards and tables are walked does not matter. Within a
// value, ordered types (list, sorted set, stream) chain their elements in order, unordered ones
// (set, hash) XOR one digest per element.
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "server/command.h"
#include "server/scripting/sha1.h"
#include "storage/db.h"
#include "storage/hash_value.h"
#include "storage/list_value.h"
#include "storage/rdb/rdb_codec.h"
#include "storage/rdb/rdb_format.h"
#include "storage/set_value.h"
#include "storage/shard_data.h"
#include "storage/zset_value.h"

namespace shardis {
namespace {

using Digest = std::array<uint8_t, 20>;

// d = SHA1(d || data): chains `data` into d.
void Mix(Digest& d, std::string_view data) {
  std::string buf(reinterpret_cast<const char*>(d.data()), d.size());
  buf.append(data);
  std::string raw = absl::HexStringToBytes(scripting::Sha1Hex(buf));
  std::copy(raw.begin(), raw.end(), d.begin());
}

void XorInto(Digest& d, const Digest& x) {
  for (size_t i = 0; i < d.size(); ++i) d[i] ^= x[i];
}

std::string Hex(const Digest& d) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Strings are length-prefixed so that ("ab","c") and ("a","bc") chain differently.
void MixString(Digest& d, std::string_view s) { Mix(d, Cat(s.size(), ":", s)); }

Digest ValueDigest(const Entry& e) {
  Digest d{};
  Mix(d, TypeName(e.type()));
  switch (e.type()) {
    case ValueType::kString:
      MixString(d, e.str());
      break;
    case ValueType::kList: {
      const auto& list = static_cast<const ListValue&>(*e.collection());
      for (ListValue::Iterator it = list.IteratorAt(0); it.Valid(); it.Next()) {
        MixString(d, it.value());
      }
      break;
    }
    case ValueType::kSet: {
      static_cast<const SetValue&>(*e.collection()).ForEach([&](std::string_view member) {
        Digest m{};
        MixString(m, member);
        XorInto(d, m);
      });
      break;
    }
    case ValueType::kHash: {
      for (HashValue::Cursor it(static_cast<const HashValue&>(*e.collection())); !it.Done();
           it.Next()) {
        Digest m{};
        MixString(m, it.field());
        MixString(m, it.value());
        XorInto(d, m);
      }
      break;
    }
    case ValueType::kZSet: {
      static_cast<const ZSetValue&>(*e.collection())
          .ForEach([&](std::string_view member, double score) {
            MixString(d, member);
            MixString(d, rdb::FormatScore(score));
          });
      break;
    }
    default:
      // Streams (and anything newer): their serialized form, which is canonical (entries in ID
      // order, groups and their pending entries included).
      MixString(d, rdb::CreateDumpPayload(e.type(), {}, e.collection(), rdb::SaveOptions{}));
      break;
  }
  return d;
}

// Every live key of one shard, all databases.
Digest ShardDigest(ShardData& shard) {
  Digest total{};
  for (int i = 0; i < shard.db_count(); ++i) {
    Db& db = shard.db(i);
    if (db.size() == 0) continue;
    uint64_t cursor = 0;
    do {
      cursor = db.Scan(cursor, 1024, [&](Entry& e) {
        Digest k{};
        MixString(k, e.key());
        Mix(k, Cat("db", i));
        XorInto(k, ValueDigest(e));
        if (e.has_expiry()) Mix(k, Cat("!!expire!!", e.expire_at_ms()));
        XorInto(total, k);
      });
    } while (cursor != 0);
  }
  return total;
}

}  // namespace

void DebugDigest(ClientCommand& c) {
  auto parts = std::make_shared<std::vector<Digest>>(c.shard_count());
  c.RunOnAllShards([parts](ShardAccess& a) { (*parts)[a.shard_index] = ShardDigest(a.shard); },
                   [parts](ReplyBuilder& reply, FanOutRunner&) {
                     Digest total{};
                     for (const Digest& d : *parts) XorInto(total, d);
                     reply.SimpleString(Hex(total));
                   });
}

void DebugDigestValue(ClientCommand& c) {
  auto keys = std::make_shared<std::vector<std::string>>(c.args.begin() + 2, c.args.end());
  auto digests = std::make_shared<std::vector<Digest>>(keys->size());
  c.RunOnAllShards(
      [keys, digests](ShardAccess& a) {
        for (size_t i = 0; i < keys->size(); ++i) {
          if (ShardOfKey((*keys)[i], a.shard_count) != a.shard_index) continue;
          if (const Entry* e = a.db.Find((*keys)[i])) (*digests)[i] = ValueDigest(*e);
        }
      },
      [digests](ReplyBuilder& reply, FanOutRunner&) {
        reply.ArrayHeader(digests->size());
        for (const Digest& d : *digests) reply.SimpleString(Hex(d));
      });
}

}  // namespace shardis
