// Tests for loading the RDB encodings older servers wrote (storage/rdb/rdb_codec.h): list / hash
// / zset ziplists, quicklist v1, zipmap hashes, zset v1 (text doubles), plain lists / sets /
// hashes, set listpacks (Redis 7.2), stream listpacks v1, and streams with consumer groups
// (read and dropped). The blobs are built by hand from the formats' descriptions.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "storage/hash_value.h"
#include "storage/list_value.h"
#include "storage/rdb/rdb_codec.h"
#include "storage/rdb/rdb_format.h"
#include "storage/set_value.h"
#include "storage/stream_value.h"
#include "storage/zset_value.h"

namespace shardis::rdb {
namespace {

// A ziplist of short strings and small integers (0..12 immediate, else int8 when it fits).
std::string Ziplist(const std::vector<std::string>& items) {
  std::string entries;
  size_t prev = 0, tail = 10;
  for (const std::string& s : items) {
    tail = 10 + entries.size();
    std::string e;
    e.push_back(static_cast<char>(prev));  // prevlen < 254
    int64_t v;
    if (ParseCanonicalInt(s, &v) && v >= 0 && v <= 12) {
      e.push_back(static_cast<char>(0xF1 + v));
    } else if (ParseCanonicalInt(s, &v) && v >= -128 && v <= 127) {
      e.push_back(static_cast<char>(0xFE));
      e.push_back(static_cast<char>(v));
    } else {
      e.push_back(static_cast<char>(s.size()));  // 00pppppp
      e += s;
    }
    prev = e.size();
    entries += e;
  }
  std::string zl;
  uint32_t total = static_cast<uint32_t>(10 + entries.size() + 1);
  for (int i = 0; i < 4; ++i) zl.push_back(static_cast<char>(total >> (8 * i)));
  for (int i = 0; i < 4; ++i) zl.push_back(static_cast<char>(tail >> (8 * i)));
  zl.push_back(static_cast<char>(items.size() & 0xff));
  zl.push_back(static_cast<char>(items.size() >> 8));
  zl += entries;
  zl.push_back(static_cast<char>(0xFF));
  return zl;
}

Value Load(uint8_t type, const std::string& body) {
  Reader r(body);
  Value v;
  LoadResult res = LoadObject(type, r, LoadLimits{}, &v);
  EXPECT_EQ(res, LoadResult::kOk) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  return v;
}

std::vector<std::string> ListOf(const Value& v) {
  std::vector<std::string> out;
  for (auto it = v.As<ListValue>()->IteratorAt(0); it.Valid(); it.Next()) {
    out.emplace_back(it.value());
  }
  return out;
}

TEST(RdbLegacyTest, ListZiplistQuicklistV1AndPlainList) {
  std::string body;
  Writer w(&body);
  w.String(Ziplist({"a", "5", "-7", "hello"}), false);
  EXPECT_EQ(ListOf(Load(kTypeListZiplist, body)),
            (std::vector<std::string>{"a", "5", "-7", "hello"}));

  body.clear();
  w.Len(2);
  w.String(Ziplist({"x", "1"}), true);
  w.String(Ziplist({"y", "100"}), true);
  EXPECT_EQ(ListOf(Load(kTypeListQuicklist, body)),
            (std::vector<std::string>{"x", "1", "y", "100"}));

  body.clear();
  w.Len(3);
  for (const char* s : {"p", "12345", "q"}) w.String(s, false);
  EXPECT_EQ(ListOf(Load(kTypeList, body)), (std::vector<std::string>{"p", "12345", "q"}));

  // A quicklist 2 with a plain node in the middle.
  body.clear();
  w.Len(2);
  w.Len(kQuicklistPlain);
  w.String(std::string(100, 'P'), true);
  ListpackBuilder lp;
  lp.Append("after");
  w.Len(kQuicklistPacked);
  w.String(lp.Finish(), false);
  EXPECT_EQ(ListOf(Load(kTypeListQuicklist2, body)),
            (std::vector<std::string>{std::string(100, 'P'), "after"}));
}

TEST(RdbLegacyTest, HashZiplistZipmapAndPlainHash) {
  std::string body;
  Writer w(&body);
  w.String(Ziplist({"f1", "v1", "f2", "2"}), false);
  Value h = Load(kTypeHashZiplist, body);
  ASSERT_EQ(h.type, ValueType::kHash);
  EXPECT_EQ(*h.As<HashValue>()->Get("f2"), "2");
  EXPECT_STREQ(EncodingName(h), "listpack");

  // zipmap: zmlen, then (keylen key vallen free value)..., 0xFF.
  std::string zm;
  zm.push_back(2);
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"bb", "xyz"}}) {
    zm.push_back(static_cast<char>(k.size()));
    zm += k;
    zm.push_back(static_cast<char>(v.size()));
    zm.push_back(0);
    zm += v;
  }
  zm.push_back(static_cast<char>(0xFF));
  body.clear();
  w.String(zm, false);
  h = Load(kTypeHashZipmap, body);
  EXPECT_EQ(*h.As<HashValue>()->Get("bb"), "xyz");
  EXPECT_EQ(h.As<HashValue>()->size(), 2u);

  body.clear();
  w.Len(1);
  w.String("field", false);
  w.String(std::string(200, 'v'), true);
  h = Load(kTypeHash, body);
  EXPECT_STREQ(EncodingName(h), "hashtable");  // value longer than hash-max-listpack-value
}

TEST(RdbLegacyTest, ZsetZiplistAndV1TextDoubles) {
  std::string body;
  Writer w(&body);
  w.String(Ziplist({"low", "-5", "mid", "1.5", "hi", "inf"}), false);
  Value z = Load(kTypeZSetZiplist, body);
  double score = 0;
  ASSERT_TRUE(z.As<ZSetValue>()->Score("mid", &score));
  EXPECT_EQ(score, 1.5);
  ASSERT_TRUE(z.As<ZSetValue>()->Score("hi", &score));
  EXPECT_TRUE(std::isinf(score));

  body.clear();
  w.Len(3);
  w.String("a", false);
  w.U8(3);
  w.Raw("2.5");
  w.String("b", false);
  w.U8(255);  // -inf
  w.String("c", false);
  w.U8(254);  // +inf
  z = Load(kTypeZSet, body);
  ASSERT_TRUE(z.As<ZSetValue>()->Score("a", &score));
  EXPECT_EQ(score, 2.5);
  ASSERT_TRUE(z.As<ZSetValue>()->Score("b", &score));
  EXPECT_EQ(score, -INFINITY);

  // A NaN score and a duplicate member are refused.
  body.clear();
  w.Len(1);
  w.String("n", false);
  w.U8(253);
  Reader r(body);
  Value v;
  EXPECT_EQ(LoadObject(kTypeZSet, r, LoadLimits{}, &v), LoadResult::kError);
  body.clear();
  w.Len(2);
  w.String("d", false);
  w.BinaryDouble(1);
  w.String("d", false);
  w.BinaryDouble(2);
  Reader r2(body);
  EXPECT_EQ(LoadObject(kTypeZSet2, r2, LoadLimits{}, &v), LoadResult::kError);
}

TEST(RdbLegacyTest, SetsPlainIntsetAndListpack) {
  std::string body;
  Writer w(&body);
  w.Len(3);
  for (const char* s : {"1", "2", "3"}) w.String(s, false);
  Value s = Load(kTypeSet, body);
  EXPECT_STREQ(EncodingName(s), "intset");
  body.clear();
  ListpackBuilder lp;
  for (const char* m : {"x", "7", "y"}) lp.Append(m);
  w.String(lp.Finish(), false);
  s = Load(kTypeSetListpack, body);
  EXPECT_EQ(s.As<SetValue>()->size(), 3u);
  EXPECT_TRUE(s.As<SetValue>()->Contains("7"));
  // Empty collections are reported as such (skipped by file loading, refused by RESTORE).
  body.clear();
  w.Len(0);
  Reader r(body);
  Value v;
  EXPECT_EQ(LoadObject(kTypeSet, r, LoadLimits{}, &v), LoadResult::kEmpty);
}

// One stream node listpack holding entries (ms, seq) -> fields, master = the first.
std::string StreamNode(const std::vector<std::pair<StreamId, std::vector<std::string>>>& e,
                       int deleted_index = -1) {
  ListpackBuilder lp;
  const auto& master = e.front();
  size_t nf = master.second.size() / 2;
  lp.AppendInt(static_cast<int64_t>(e.size()) - (deleted_index >= 0 ? 1 : 0));
  lp.AppendInt(deleted_index >= 0 ? 1 : 0);
  lp.AppendInt(static_cast<int64_t>(nf));
  for (size_t i = 0; i < nf; ++i) lp.Append(master.second[2 * i]);
  lp.AppendInt(0);
  for (size_t k = 0; k < e.size(); ++k) {
    int flags = static_cast<int>(k) == deleted_index ? 1 : 0;
    lp.AppendInt(flags);
    lp.AppendInt(static_cast<int64_t>(e[k].first.ms - master.first.ms));
    lp.AppendInt(static_cast<int64_t>(e[k].first.seq - master.first.seq));
    size_t n = e[k].second.size() / 2;
    lp.AppendInt(static_cast<int64_t>(n));
    for (const std::string& s : e[k].second) lp.Append(s);
    lp.AppendInt(static_cast<int64_t>(2 * n + 4));
  }
  return lp.Finish();
}

void WriteNodeKey(Writer& w, StreamId id) {
  std::string key(16, '\0');
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<char>(id.ms >> (56 - 8 * i));
    key[8 + i] = static_cast<char>(id.seq >> (56 - 8 * i));
  }
  w.RawString(key);
}

TEST(RdbLegacyTest, StreamV1AndConsumerGroupsAreDropped) {
  std::vector<std::pair<StreamId, std::vector<std::string>>> entries = {
      {{10, 1}, {"a", "1"}}, {{10, 2}, {"a", "2", "b", "3"}}, {{12, 0}, {"c", "4"}}};
  for (uint8_t type : {kTypeStreamListpacks, kTypeStreamListpacks2, kTypeStreamListpacks3}) {
    SCOPED_TRACE(static_cast<int>(type));
    std::string body;
    Writer w(&body);
    w.Len(1);
    WriteNodeKey(w, {10, 1});
    w.String(StreamNode(entries, 1), true);
    w.Len(2);  // length
    w.Len(12);
    w.Len(5);  // last id 12-5
    if (type >= kTypeStreamListpacks2) {
      w.Len(10);
      w.Len(1);  // first id
      w.Len(10);
      w.Len(2);  // max deleted
      w.Len(3);  // entries added
    }
    w.Len(1);  // one consumer group
    w.String("group", false);
    w.Len(12);
    w.Len(0);
    if (type >= kTypeStreamListpacks2) w.Len(2);  // entries read
    w.Len(1);                                     // PEL
    w.Raw(std::string(16, '\0'));
    w.MillisLE(1000);
    w.Len(1);
    w.Len(1);  // consumers
    w.String("alice", false);
    w.MillisLE(2000);
    if (type >= kTypeStreamListpacks3) w.MillisLE(2000);
    w.Len(1);
    w.Raw(std::string(16, '\0'));
    Value v = Load(type, body);
    ASSERT_EQ(v.type, ValueType::kStream);
    const StreamValue* s = v.As<StreamValue>();
    EXPECT_EQ(s->size(), 2u);
    EXPECT_EQ(s->last_id().ToString(), "12-5");
    EXPECT_EQ(s->first_id().ToString(), "10-1");
    if (type >= kTypeStreamListpacks2) {
      EXPECT_EQ(s->max_deleted_id().ToString(), "10-2");
      EXPECT_EQ(s->entries_added(), 3u);
    }
  }
}

TEST(RdbLegacyTest, MalformedBlobsAreErrorsNotCrashes) {
  std::vector<uint8_t> types = {kTypeListZiplist,  kTypeHashZiplist,    kTypeZSetZiplist,
                                kTypeHashZipmap,   kTypeSetIntset,      kTypeHashListpack,
                                kTypeZSetListpack, kTypeListQuicklist2, kTypeStreamListpacks2};
  std::string zl = Ziplist({"f", "v", "g", "w"});
  for (uint8_t type : types) {
    for (size_t cut = 0; cut < zl.size(); ++cut) {
      std::string body;
      Writer w(&body);
      if (type == kTypeListQuicklist2 || type == kTypeStreamListpacks2) w.Len(1);
      if (type == kTypeListQuicklist2) w.Len(kQuicklistPacked);
      if (type == kTypeStreamListpacks2) w.RawString(std::string(16, '\0'));
      std::string blob = zl.substr(0, cut);
      blob += std::string(zl.size() - cut, '\x7f');
      w.String(blob, false);
      Reader r(body);
      Value v;
      LoadResult res = LoadObject(type, r, LoadLimits{}, &v);
      (void)res;  // any outcome but a crash; most are errors
    }
  }
}

}  // namespace
}  // namespace shardis::rdb
