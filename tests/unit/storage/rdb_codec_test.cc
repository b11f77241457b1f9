// Tests for storage/rdb: LZF round trips (and rejection of malformed input), the CRC64 check
// value, listpack / intset / ziplist blobs, value round trips for every type and encoding, DUMP
// payload checks, and whole-file write/parse (including corruption reported with an offset).
#include "storage/rdb/rdb_codec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "storage/hash_value.h"
#include "storage/list_value.h"
#include "storage/rdb/crc64.h"
#include "storage/rdb/lzf.h"
#include "storage/rdb/rdb_file.h"
#include "storage/rdb/rdb_format.h"
#include "storage/set_value.h"
#include "storage/stream_value.h"
#include "storage/zset_value.h"

namespace shardis::rdb {
namespace {

std::string Compress(std::string_view in) {
  std::string out(in.size() + in.size() / 16 + 64, '\0');
  size_t n = LzfCompress(in, reinterpret_cast<uint8_t*>(out.data()), out.size());
  out.resize(n);
  return out;
}

TEST(LzfTest, RoundTripsVariedInputs) {
  std::mt19937_64 rng(7);
  std::vector<std::string> inputs = {"a", "abcabcabcabcabcabcabcabcabcabc",
                                     std::string(10000, 'x')};
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 20000 + 1, '\0');
    int alphabet = 1 + static_cast<int>(rng() % 255);
    for (char& c : s) c = static_cast<char>(rng() % alphabet);
    inputs.push_back(s);
  }
  for (const std::string& in : inputs) {
    std::string c = Compress(in);
    ASSERT_GT(c.size(), 0u);
    std::string back;
    ASSERT_TRUE(LzfDecompress(c, in.size(), &back));
    ASSERT_EQ(back, in);
  }
  EXPECT_LT(Compress(std::string(10000, 'x')).size(), 200u);
}

// liblzf's choices (so DUMP payloads and RDB files are Redis's, byte for byte): no reference to
// the first byte, the last two bytes left as literals, only a match's last two positions
// indexed. Expected bytes from redis-server 7.0.15's DUMP payloads of these strings.
TEST(LzfTest, CompressesAsLiblzf) {
  EXPECT_EQ(Compress(std::string(100, 'x')), std::string("\001xx\340W\000\001xx", 9));
  std::string hello;
  for (int i = 0; i < 10; ++i) hello += "hello world 5 ";
  EXPECT_EQ(Compress(hello), std::string("\016hello world 5 h\340r\015\0015 ", 22));
  std::string abc;
  for (int i = 0; i < 20; ++i) abc += "abcabcabcabc";
  abc += "hello world hello world";
  EXPECT_EQ(Compress(abc),
            std::string("\003abca\340\343\002\013hello world \340\000\013\001ld", 27));
}

TEST(LzfTest, CompressFailsWhenOutputTooSmall) {
  std::string in = "the quick brown fox jumps over the lazy dog";
  uint8_t out[8];
  EXPECT_EQ(LzfCompress(in, out, sizeof(out)), 0u);
}

TEST(LzfTest, DecompressRejectsMalformedInput) {
  std::string back;
  EXPECT_FALSE(LzfDecompress(std::string("\x20\x00", 2), 3, &back));  // reference before start
  EXPECT_FALSE(LzfDecompress(std::string("\x05"
                                         "ab",
                                         3),
                             6, &back));  // literal run past end
  EXPECT_FALSE(LzfDecompress(std::string("\x01"
                                         "ab",
                                         3),
                             5, &back));  // wrong final size
  std::string c = Compress(std::string(1000, 'y'));
  EXPECT_FALSE(LzfDecompress(c, 999, &back));
  EXPECT_FALSE(LzfDecompress(c.substr(0, c.size() - 1), 1000, &back));
}

TEST(Crc64Test, CheckValueAndIncremental) {
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
  std::string s = "The quick brown fox jumps over the lazy dog, many times over.";
  EXPECT_EQ(Crc64(Crc64(0, s.substr(0, 13)), s.substr(13)), Crc64(0, s));
  EXPECT_EQ(Crc64(0, ""), 0u);
}

TEST(ListpackTest, IntegersAndStringsOfEverySize) {
  std::vector<std::string> in = {"0",
                                 "127",
                                 "128",
                                 "-1",
                                 "-4096",
                                 "4095",
                                 "-32768",
                                 "32767",
                                 "8388607",
                                 "-8388608",
                                 "2147483647",
                                 "-2147483648",
                                 "9223372036854775807",
                                 "-9223372036854775808",
                                 "007",
                                 "+1",
                                 "",
                                 "x",
                                 std::string(63, 'a'),
                                 std::string(64, 'b'),
                                 std::string(4095, 'c'),
                                 std::string(4096, 'd'),
                                 std::string(70000, 'e')};
  ListpackBuilder b;
  for (const std::string& s : in) b.Append(s);
  std::string lp = b.Finish();
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(ListpackElements(lp, &out, &error)) << error;
  EXPECT_EQ(out, in);
  // Corruption is detected, not crashed on.
  for (size_t cut = 0; cut < lp.size(); cut += 97) {
    std::string bad = lp.substr(0, cut);
    out.clear();
    EXPECT_FALSE(ListpackElements(bad, &out, &error));
  }
}

TEST(ZiplistTest, DecodesEveryEntryEncoding) {
  // A hand-built ziplist: "ab", 5 (imm), 300 (int16), -70000 (int24), 1<<40 (int64).
  std::string entries;
  size_t prev = 0, tail = 10;
  auto add = [&](std::string enc) {
    tail = 10 + entries.size();
    entries += static_cast<char>(prev);  // prevlen: the previous entry's size
    entries += enc;
    prev = 1 + enc.size();
  };
  add(
      std::string("\x02"
                  "ab",
                  3));
  add(std::string("\xF6", 1));
  add(std::string("\xC0\x2C\x01", 3));
  int32_t v24 = -70000;
  add(std::string("\xF0", 1) + std::string(reinterpret_cast<char*>(&v24), 3));
  int64_t v64 = int64_t{1} << 40;
  add(std::string("\xE0", 1) + std::string(reinterpret_cast<char*>(&v64), 8));
  uint32_t total = static_cast<uint32_t>(10 + entries.size() + 1);
  std::string zl(reinterpret_cast<char*>(&total), 4);
  uint32_t tail32 = static_cast<uint32_t>(tail);
  zl += std::string(reinterpret_cast<char*>(&tail32), 4);
  zl += std::string("\x05\x00", 2);
  zl += entries;
  zl += '\xFF';
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(ZiplistElements(zl, &out, &error)) << error;
  EXPECT_EQ(out, (std::vector<std::string>{"ab", "5", "300", "-70000", "1099511627776"}));
}

TEST(IntsetTest, RoundTrip) {
  std::vector<int64_t> v = {-5, 0, 70000};
  std::string blob = BuildIntset(v, 4);
  std::vector<int64_t> out;
  std::string error;
  ASSERT_TRUE(IntsetElements(blob, &out, &error));
  EXPECT_EQ(out, v);
  EXPECT_FALSE(IntsetElements(blob.substr(0, blob.size() - 1), &out, &error));
}

// A canonical text of a value, for comparisons.
std::string Describe(const Value& v) {
  std::ostringstream os;
  os << TypeName(v.type) << "/" << EncodingName(v) << ":";
  switch (v.type) {
    case ValueType::kString:
      os << v.str;
      break;
    case ValueType::kList:
      for (auto it = v.As<ListValue>()->IteratorAt(0); it.Valid(); it.Next())
        os << it.value() << ",";
      break;
    case ValueType::kSet: {
      std::vector<std::string> m = v.As<SetValue>()->Members();
      std::sort(m.begin(), m.end());
      for (auto& s : m) os << s << ",";
      break;
    }
    case ValueType::kHash: {
      std::vector<std::string> m;
      for (HashValue::Cursor c(*v.As<HashValue>()); !c.Done(); c.Next()) {
        m.push_back(std::string(c.field()) + "=" + std::string(c.value()));
      }
      std::sort(m.begin(), m.end());
      for (auto& s : m) os << s << ",";
      break;
    }
    case ValueType::kZSet:
      v.As<ZSetValue>()->ForEach([&](std::string_view m, double s) { os << m << "=" << s << ","; });
      break;
    case ValueType::kStream: {
      const StreamValue* s = v.As<StreamValue>();
      os << s->size() << "|" << s->last_id().ToString() << "|" << s->entries_added() << "|"
         << s->max_deleted_id().ToString() << "|";
      StreamValue::Iterator it(*s, StreamId{0, 0}, StreamId::Max(), false);
      StreamId id;
      std::vector<std::string_view> fv;
      while (it.Next(&id, &fv)) {
        os << id.ToString() << "{";
        for (auto f : fv) os << f << ";";
        os << "}";
      }
      for (const auto& [name, g] : s->groups().map()) {
        os << " group " << name << " " << g->last_id.ToString() << " " << g->entries_read << ":";
        for (const auto& [pid, nack] : g->pel) {
          os << pid.ToString() << "/" << nack.consumer->name << "/" << nack.delivery_time << "/"
             << nack.delivery_count << ",";
        }
        for (const auto& [cname, c] : g->consumers) {
          os << " consumer " << cname << "@" << c->seen_time << ":" << c->pel.size();
        }
      }
      break;
    }
  }
  return os.str();
}

Value RoundTrip(const Value& v, bool compress) {
  SaveOptions opts;
  opts.compress = compress;
  std::string payload = CreateDumpPayload(v.type, v.str, v.coll.get(), opts);
  Value out;
  EXPECT_EQ(ParseDumpPayload(payload, LoadLimits{}, &out), RestoreStatus::kOk);
  return out;
}

std::vector<Value> SampleValues() {
  std::vector<Value> values;
  for (std::string s :
       std::vector<std::string>{"", "1", "-128", "300", "-40000", "2147483648", "12345678901",
                                "hello", std::string(1000, 'z'), std::string("bin\0ary\xff", 9)}) {
    values.push_back(Value::FromString(s));
  }
  {
    auto l = std::make_unique<ListValue>();
    for (int i = 0; i < 3000; ++i)
      l->PushBack(i % 3 ? std::to_string(i) : "item-" + std::to_string(i));
    l->PushBack(std::string(20000, 'L'));
    values.push_back(Value::OfCollection(ValueType::kList, std::move(l)));
  }
  {
    auto s = std::make_unique<SetValue>();
    for (int i = -50; i < 50; ++i) s->Add(std::to_string(i * 1000), 512);
    values.push_back(Value::OfCollection(ValueType::kSet, std::move(s)));
    auto h = std::make_unique<SetValue>();
    for (int i = 0; i < 600; ++i) h->Add("m" + std::to_string(i), 512);
    values.push_back(Value::OfCollection(ValueType::kSet, std::move(h)));
  }
  {
    auto h = std::make_unique<HashValue>();
    for (int i = 0; i < 10; ++i) h->Set("f" + std::to_string(i), std::to_string(i * 7), 512, 64);
    values.push_back(Value::OfCollection(ValueType::kHash, std::move(h)));
    auto big = std::make_unique<HashValue>();
    for (int i = 0; i < 1000; ++i)
      big->Set("f" + std::to_string(i), std::string(i % 100, 'v'), 512, 64);
    values.push_back(Value::OfCollection(ValueType::kHash, std::move(big)));
  }
  {
    ZSetLimits limits;
    auto z = std::make_unique<ZSetValue>();
    double nz;
    for (double s : std::vector<double>{1.5, -2.0, 0.0, 1e300, -INFINITY, INFINITY, 3.0, 0.1}) {
      z->Add(s, "m" + std::to_string(s), 0, limits, &nz);
    }
    values.push_back(Value::OfCollection(ValueType::kZSet, std::move(z)));
    auto sl = std::make_unique<ZSetValue>();
    for (int i = 0; i < 300; ++i)
      sl->Add(i * 0.25 - 10, "member" + std::to_string(i), 0, limits, &nz);
    sl->Add(-0.0, "negzero", 0, limits, &nz);
    values.push_back(Value::OfCollection(ValueType::kZSet, std::move(sl)));
  }
  {
    auto st = std::make_unique<StreamValue>();
    StreamNodeLimits limits;
    StreamId added;
    for (int i = 0; i < 250; ++i) {
      std::vector<std::string> fv = {"a", std::to_string(i), "b", "x"};
      if (i % 7 == 0) fv = {"other", "field"};
      std::vector<std::string_view> views(fv.begin(), fv.end());
      StreamValue::IdRequest req{
          StreamValue::IdRequest::Kind::kExplicit,
          StreamId{static_cast<uint64_t>(1000 + i / 3), static_cast<uint64_t>(i)}};
      EXPECT_EQ(st->Add(req, views, 0, limits, &added), StreamValue::AddStatus::kOk);
    }
    std::vector<StreamId> del = {StreamId{1000, 1}, StreamId{1010, 30}};
    st->Delete(del);
    // Consumer groups: pending entries of two consumers, an idle consumer, an unknown counter.
    StreamGroup* g = st->groups().Create("g1", StreamId{1005, 16}, 7);
    StreamConsumer* alice = g->CreateConsumer("alice", 1700000000123);
    StreamConsumer* bob = g->CreateConsumer("bob", 1700000000456);
    g->CreateConsumer("carol", 42);
    g->Deliver(StreamId{1000, 2}, alice, 1700000001000);
    g->Deliver(StreamId{1001, 3}, bob, 1700000002000);
    g->Deliver(StreamId{1002, 6}, alice, 1700000003000);
    g->FindNack(StreamId{1001, 3})->delivery_count = 9;
    st->groups().Create("g2", StreamId{0, 0}, kInvalidEntriesRead);
    values.push_back(Value::OfCollection(ValueType::kStream, std::move(st)));
    auto empty = std::make_unique<StreamValue>();
    empty->set_last_id(StreamId{5, 5});
    empty->set_entries_added(3);
    values.push_back(Value::OfCollection(ValueType::kStream, std::move(empty)));
  }
  return values;
}

TEST(RdbCodecTest, EveryTypeAndEncodingRoundTrips) {
  for (bool compress : {false, true}) {
    for (const Value& v : SampleValues()) {
      Value back = RoundTrip(v, compress);
      EXPECT_EQ(Describe(back), Describe(v));
    }
  }
}

TEST(RdbCodecTest, MutatedObjectsNeverCrash) {
  // Random byte changes inside valid objects (checksums bypassed by loading the object directly):
  // every outcome is a value, an error or an empty collection, never a crash (run under ASan).
  std::mt19937_64 rng(99);
  for (const Value& v : SampleValues()) {
    for (bool compress : {false, true}) {
      SaveOptions opts;
      opts.compress = compress;
      std::string body;
      Writer w(&body);
      SaveObject(w, v.type, v.str, v.coll.get(), opts);
      uint8_t type = ObjectType(v.type, v.coll.get());
      for (int round = 0; round < 60; ++round) {
        std::string m = body;
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !m.empty(); ++e)
          m[rng() % m.size()] = static_cast<char>(rng());
        if (round % 5 == 0) m.resize(rng() % (m.size() + 1));
        Reader r(m);
        Value out;
        (void)LoadObject(type, r, LoadLimits{}, &out);
      }
    }
  }
}

TEST(RdbCodecTest, DumpPayloadChecks) {
  Value v = Value::FromString("hello world");
  std::string p = CreateDumpPayload(v.type, v.str, nullptr, SaveOptions{});
  // Redis 7.0's DUMP of "hello world": type 0, raw string, version 10, crc.
  EXPECT_EQ(p.substr(0, 13), std::string("\x00\x0bhello world", 13));
  EXPECT_EQ(p.substr(13, 2), std::string("\x0a\x00", 2));
  Value out;
  std::string bad = p;
  bad[3] ^= 1;
  EXPECT_EQ(ParseDumpPayload(bad, LoadLimits{}, &out), RestoreStatus::kBadVersionOrChecksum);
  bad = p;
  bad[13] = 11;  // newer version
  EXPECT_EQ(ParseDumpPayload(bad, LoadLimits{}, &out), RestoreStatus::kBadVersionOrChecksum);
  EXPECT_EQ(ParseDumpPayload("short", LoadLimits{}, &out), RestoreStatus::kBadVersionOrChecksum);
  // A valid checksum over a bad object.
  std::string junk = std::string("\x63\x01\x02", 3) + std::string("\x0a\x00", 2);
  std::string tail;
  Writer(&tail).U64LE(Crc64(0, junk));
  EXPECT_EQ(ParseDumpPayload(junk + tail, LoadLimits{}, &out), RestoreStatus::kBadFormat);
}

TEST(RdbCodecTest, LoadConvertsEncodingsToTheLimits) {
  auto h = std::make_unique<HashValue>();
  for (int i = 0; i < 20; ++i) h->Set("f" + std::to_string(i), "v", 512, 64);
  Value v = Value::OfCollection(ValueType::kHash, std::move(h));
  std::string p = CreateDumpPayload(v.type, v.str, v.coll.get(), SaveOptions{});
  LoadLimits small;
  small.hash_max_listpack_entries = 10;
  Value out;
  ASSERT_EQ(ParseDumpPayload(p, small, &out), RestoreStatus::kOk);
  EXPECT_STREQ(EncodingName(out), "hashtable");
}

TEST(RdbFileTest, WriteParseAndCorruption) {
  char tmpl[] = "/tmp/rdbtestXXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::vector<Value> values = SampleValues();
  DbSection s0, s3;
  for (size_t i = 0; i < values.size(); ++i) {
    DbSection& s = i % 2 ? s3 : s0;
    int64_t expire = i % 3 == 0 ? int64_t{4102444800000} : -1;
    AppendKeyRecord(&s.bytes, "key" + std::to_string(i), expire, values[i].type, values[i].str,
                    values[i].coll.get(), SaveOptions{});
    ++s.keys;
    if (expire >= 0) ++s.expires;
  }
  AppendKeyRecord(&s0.bytes, "gone", 1000, ValueType::kString, "x", nullptr, SaveOptions{});
  ++s0.keys;
  std::vector<std::vector<DbSection*>> dbs(16);
  dbs[0] = {&s0};
  dbs[3] = {&s3};
  uint64_t size = 0;
  ASSERT_EQ(WriteFile(dir, "x.rdb", FileHeader({{"redis-ver", "7.0.15"}, {"redis-bits", "64"}}),
                      dbs, true, &size),
            "");
  std::ifstream in(dir + "/x.rdb", std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(data.size(), size);
  std::vector<LoadedKey> keys;
  LoadStats stats;
  auto sink = [&](LoadedKey&& k) {
    keys.push_back(std::move(k));
    return std::string();
  };
  ASSERT_EQ(ParseFile(data, LoadLimits{}, 2000, 16, sink, &stats), "");
  EXPECT_EQ(stats.expired_skipped, 1u);
  ASSERT_EQ(keys.size(), values.size());
  for (const LoadedKey& k : keys) {
    size_t i = std::stoul(k.key.substr(3));
    EXPECT_EQ(k.db, i % 2 ? 3 : 0);
    EXPECT_EQ(k.expire_ms, i % 3 == 0 ? int64_t{4102444800000} : -1);
    EXPECT_EQ(Describe(k.value), Describe(values[i]));
  }
  // A flipped byte is a checksum error; a truncation names an offset; never a crash.
  std::string bad = data;
  bad[data.size() / 2] ^= 0x40;
  std::string err = ParseFile(
      bad, LoadLimits{}, 2000, 16, [](LoadedKey&&) { return std::string(); }, &stats);
  EXPECT_NE(err, "");
  for (size_t cut = 9; cut < data.size(); cut += 1 + data.size() / 300) {
    err = ParseFile(
        data.substr(0, cut), LoadLimits{}, 2000, 16, [](LoadedKey&&) { return std::string(); },
        &stats);
    EXPECT_NE(err.find("offset"), std::string::npos) << cut << ": " << err;
  }
  // Too few databases.
  err = ParseFile(data, LoadLimits{}, 2000, 2, sink, &stats);
  EXPECT_NE(err.find("databases"), std::string::npos);
  if (getenv("SHARDIS_RDB_TEST_KEEP") != nullptr) {
    printf("kept %s/x.rdb\n", dir.c_str());  // for manual checks with redis-check-rdb
    return;
  }
  unlink((dir + "/x.rdb").c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace shardis::rdb
