// DEBUG DIGEST and DEBUG DIGEST-VALUE: SHA-1 fingerprints of the whole dataset, or of single
// values, as 40 hex digits, computed as redis-server 7.0 computes them, so equal data gives the
// same digits on both servers whatever its encoding, table order or shard count. Redis's test
// suites compare them across reloads, RESTOREs and AOF rewrites.
//
// The scheme (Redis's debug.c): xor(d, x) is d ^= SHA1(x), which ignores order; mix(d, x) is
// xor(d, x) then d = SHA1(d), which does not. A value's digest mixes its type (a 4-byte
// big-endian code), then its contents: a string's bytes; a list's elements in order; each set
// member xored; each sorted-set element and each hash field as a digest of its own (member then
// score as %.17g; field then value), xored; a stream's entries in ID order ("ms.seq", then each
// field and value) mixed. A key with a TTL xors "!!expire!!". A key's digest mixes its name, then
// its value's; the dataset's mixes each non-empty database's index (4 bytes big-endian), then
// xors the digest of each of its keys. An empty dataset and a missing key are 40 zeros.
//
// Each shard digests the keys it owns on its own thread (a fan-out), per database, and the
// connection's thread chains the databases in order.
#include <array>
#include <cstdint>
#include <cstdio>
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
#include "storage/set_value.h"
#include "storage/shard_data.h"
#include "storage/stream_value.h"
#include "storage/zset_value.h"

namespace shardis {
namespace {

using Digest = std::array<uint8_t, 20>;

Digest Sha1(std::string_view data) {
  Digest d;
  std::string raw = absl::HexStringToBytes(scripting::Sha1Hex(data));
  std::copy(raw.begin(), raw.end(), d.begin());
  return d;
}

std::string_view Bytes(const Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

void Xor(Digest& d, std::string_view data) {
  Digest h = Sha1(data);
  for (size_t i = 0; i < d.size(); ++i) d[i] ^= h[i];
}

void Mix(Digest& d, std::string_view data) {
  Xor(d, data);
  d = Sha1(Bytes(d));
}

std::string BigEndian32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string Hex(const Digest& d) { return absl::BytesToHexString(AV(Bytes(d))); }

// Redis's type codes (OBJ_STRING...).
uint32_t TypeCode(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return 0;
    case ValueType::kList:
      return 1;
    case ValueType::kSet:
      return 2;
    case ValueType::kZSet:
      return 3;
    case ValueType::kHash:
      return 4;
    default:
      return 6;  // stream
  }
}

// Mixes the value of e into d (Redis's xorObjectDigest).
void MixValue(Digest& d, const Entry& e) {
  Mix(d, BigEndian32(TypeCode(e.type())));
  switch (e.type()) {
    case ValueType::kString:
      Mix(d, e.str());
      break;
    case ValueType::kList: {
      const auto& list = static_cast<const ListValue&>(*e.collection());
      for (ListValue::Iterator it = list.IteratorAt(0); it.Valid(); it.Next()) Mix(d, it.value());
      break;
    }
    case ValueType::kSet:
      static_cast<const SetValue&>(*e.collection()).ForEach([&](std::string_view m) { Xor(d, m); });
      break;
    case ValueType::kZSet:
      static_cast<const ZSetValue&>(*e.collection())
          .ForEach([&](std::string_view member, double score) {
            Digest element{};
            Mix(element, member);
            char buf[64];
            int n = std::snprintf(buf, sizeof(buf), "%.17g", score);
            Mix(element, std::string_view(buf, n));
            Xor(d, Bytes(element));
          });
      break;
    case ValueType::kHash:
      for (HashValue::Cursor it(static_cast<const HashValue&>(*e.collection())); !it.Done();
           it.Next()) {
        Digest element{};
        Mix(element, it.field());
        Mix(element, it.value());
        Xor(d, Bytes(element));
      }
      break;
    default: {
      const auto& stream = static_cast<const StreamValue&>(*e.collection());
      StreamValue::Iterator it(stream, StreamId{0, 0}, StreamId{UINT64_MAX, UINT64_MAX}, false);
      StreamId id;
      std::vector<std::string_view> field_values;
      while (it.Next(&id, &field_values)) {
        Mix(d, Cat(id.ms, ".", id.seq));
        for (std::string_view part : field_values) Mix(d, part);
      }
      break;
    }
  }
  if (e.has_expiry()) Xor(d, "!!expire!!");
}

// One shard's part of each database: the xor of the SHA-1 of each key's digest.
struct DbPart {
  Digest keys{};
  bool any = false;
};

std::vector<DbPart> ShardDigest(ShardData& shard) {
  std::vector<DbPart> parts(shard.db_count());
  for (int i = 0; i < shard.db_count(); ++i) {
    Db& db = shard.db(i);
    if (db.size() == 0) continue;
    uint64_t cursor = 0;
    do {
      cursor = db.Scan(cursor, 1024, [&](Entry& e) {
        Digest key{};
        Mix(key, e.key());
        MixValue(key, e);
        Xor(parts[i].keys, Bytes(key));
        parts[i].any = true;
      });
    } while (cursor != 0);
  }
  return parts;
}

}  // namespace

void DebugDigest(ClientCommand& c) {
  auto parts = std::make_shared<std::vector<std::vector<DbPart>>>(c.shard_count());
  c.RunOnAllShards([parts](ShardAccess& a) { (*parts)[a.shard_index] = ShardDigest(a.shard); },
                   [parts](ReplyBuilder& reply, FanOutRunner&) {
                     Digest total{};
                     size_t dbs = parts->empty() ? 0 : parts->front().size();
                     for (size_t db = 0; db < dbs; ++db) {
                       bool any = false;
                       for (const auto& shard : *parts) any = any || shard[db].any;
                       if (!any) continue;
                       Mix(total, BigEndian32(static_cast<uint32_t>(db)));
                       for (const auto& shard : *parts) {
                         for (size_t i = 0; i < total.size(); ++i) total[i] ^= shard[db].keys[i];
                       }
                     }
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
          if (const Entry* e = a.db.Find((*keys)[i])) MixValue((*digests)[i], *e);
        }
      },
      [digests](ReplyBuilder& reply, FanOutRunner&) {
        reply.ArrayHeader(digests->size());
        for (const Digest& d : *digests) reply.SimpleString(Hex(d));
      });
}

}  // namespace shardis
