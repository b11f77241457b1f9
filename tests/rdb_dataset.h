// Shared by the persistence integration tests (rdb_test, differential_dump_test): a varied
// dataset covering every type and every encoding redis-server 7.0 writes (int / embstr / raw /
// compressible strings, listpack and large lists, intsets of each width and hashtable sets,
// listpack and hashtable hashes, listpack and skiplist sorted sets, streams with deleted entries
// and an emptied stream), binary keys and values, expiring keys, spread over 16 databases; and a
// canonical description of a key's value (type, contents, TTL) to compare two servers by.
#pragma once

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// The commands that build the dataset, as (db, command) pairs, identical for every server.
inline std::vector<std::pair<int, std::vector<std::string>>> DatasetCommands() {
  std::vector<std::pair<int, std::vector<std::string>>> cmds;
  std::mt19937_64 rng(2024);
  for (int db = 0; db < 16; ++db) {
    cmds.push_back({db, {"SET", absl::StrCat("str:", db), absl::StrCat("value-", db)}});
    cmds.push_back({db, {"RPUSH", absl::StrCat("list:", db), "a", "b", absl::StrCat(db)}});
  }
  for (int db : {0, 3}) {
    auto add = [&](std::vector<std::string> c) { cmds.push_back({db, std::move(c)}); };
    // Strings.
    add({"SET", "s:int8", "-100"});
    add({"SET", "s:int16", "30000"});
    add({"SET", "s:int32", "-2000000000"});
    add({"SET", "s:int64", "9223372036854775807"});
    add({"SET", "s:zeropad", "007"});
    add({"SET", "s:empty", ""});
    add({"SET", "s:embstr", "hello world"});
    add({"SET", "s:raw", std::string(300, 'x') + "tail"});
    add({"SET", "s:random", RandomBytes(rng, 2000)});
    add({"SET", std::string("bin\0key\xff\r\n", 10), RandomBytes(rng, 40)});
    add({"APPEND", "s:appended", "abc"});
    // Lists.
    add({"RPUSH", "l:small", "a", "1", "-2", "300", "70000", "-9223372036854775808", "", "ccc"});
    {
      std::vector<std::string> c = {"RPUSH", "l:big"};
      for (int i = 0; i < 3000; ++i) {
        c.push_back(i % 3 == 0 ? absl::StrCat(i) : absl::StrCat("element-", i, "-", i * i));
      }
      add(c);
    }
    add({"RPUSH", "l:huge", "x", std::string(20000, 'h'), "y", RandomBytes(rng, 9000)});
    add({"LPUSH", "l:binary", RandomBytes(rng, 10), RandomBytes(rng, 70)});
    // Sets.
    add({"SADD", "set:i16", "1", "2", "3", "-32768", "32767"});
    add({"SADD", "set:i32", "1", "100000", "-2000000000"});
    add({"SADD", "set:i64", "1", "9223372036854775807", "-9223372036854775808"});
    add({"SADD", "set:str", "apple", "banana", "1", RandomBytes(rng, 12)});
    {
      std::vector<std::string> c = {"SADD", "set:bigint"};
      for (int i = 0; i < 600; ++i) c.push_back(absl::StrCat(i * 7));
      add(c);
      std::vector<std::string> d = {"SADD", "set:big"};
      for (int i = 0; i < 700; ++i) d.push_back(absl::StrCat("member:", i));
      add(d);
    }
    // Hashes.
    add({"HSET", "h:small", "f1", "v1", "f2", "2", "num", "-12345", "empty", ""});
    add({"HSET", "h:longval", "f", std::string(100, 'v'), "g", "short"});
    {
      std::vector<std::string> c = {"HSET", "h:big"};
      for (int i = 0; i < 1000; ++i) {
        c.push_back(absl::StrCat("field", i));
        c.push_back(i % 2 ? absl::StrCat(i) : absl::StrCat("val", i));
      }
      add(c);
    }
    add({"HSET", "h:binary", RandomBytes(rng, 5), RandomBytes(rng, 30)});
    // Sorted sets.
    add({"ZADD", "z:small", "1", "one", "-2.5", "neg", "3.14159", "pi", "inf", "top", "-inf",
         "bottom", "0", "zero", "1e-300", "tiny", "12345678901", "big"});
    {
      std::vector<std::string> c = {"ZADD", "z:big"};
      for (int i = 0; i < 500; ++i) {
        c.push_back(absl::StrCat(i * 0.37 - 50));
        c.push_back(absl::StrCat("m", i));
      }
      add(c);
    }
    add({"ZADD", "z:longmember", "1", std::string(100, 'm'), "2", "b"});
    add({"ZADD", "z:skipinf", "inf", std::string(80, 'a'), "-inf", "low", "0.1", "mid"});
    // Streams.
    for (int i = 1; i <= 250; ++i) {
      if (i % 10 == 0) {
        add({"XADD", "x:main", absl::StrCat(1000 + i / 4, "-", i), "other", absl::StrCat(i)});
      } else {
        add({"XADD", "x:main", absl::StrCat(1000 + i / 4, "-", i), "name", absl::StrCat("n", i),
             "value", absl::StrCat(i * 3)});
      }
    }
    add({"XDEL", "x:main", "1000-1", "1002-9", "1012-50"});
    add({"XADD", "x:emptied", "5-1", "f", "v"});
    add({"XDEL", "x:emptied", "5-1"});
    add({"XADD", "x:trimmed", "MAXLEN", "3", "1-1", "a", "1"});
    for (int i = 2; i < 10; ++i) {
      add({"XADD", "x:trimmed", "MAXLEN", "3", absl::StrCat(i, "-1"), "a", absl::StrCat(i)});
    }
    // Consumer groups: pending entries of several consumers, an acknowledged one, a consumer
    // without pending entries, a group with an unknown read counter.
    add({"XGROUP", "CREATE", "x:main", "g1", "0"});
    add({"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "x:main", ">"});
    add({"XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "x:main", ">"});
    add({"XACK", "x:main", "g1", "1000-3"});
    add({"XGROUP", "CREATECONSUMER", "x:main", "g1", "carol"});
    add({"XGROUP", "CREATE", "x:main", "g2", "$"});
    add({"XGROUP", "CREATE", "x:main", "g3", "1005-0"});
    add({"XREADGROUP", "GROUP", "g3", "dave", "NOACK", "COUNT", "4", "STREAMS", "x:main", ">"});
    add({"XGROUP", "CREATE", "x:emptied", "g", "0"});
    // Expiring keys.
    // Absolute times, the same for every server this process fills (so that their expiry
    // times compare equal however long filling and reloading take).
    static const int64_t base_ms = [] {
      timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
    }();
    add({"SET", "e:str", "expiring", "PXAT", absl::StrCat(base_ms + 100000000)});
    add({"RPUSH", "e:list", "a", "b"});
    add({"PEXPIREAT", "e:list", absl::StrCat(base_ms + 50000000)});
    add({"HSET", "e:hash", "f", "v"});
    add({"EXPIREAT", "e:hash", "4102444800"});
  }
  return cmds;
}

// Runs the dataset's commands; fails the test on an error reply.
inline void Populate(Client& c) {
  int current = -1;
  for (const auto& [db, cmd] : DatasetCommands()) {
    if (db != current) {
      ASSERT_EQ(c.Run({"SELECT", absl::StrCat(db)}), "status:\"OK\"");
      current = db;
    }
    ReplyPtr r = c.Command(cmd);
    ASSERT_TRUE(r != nullptr && r->type != REDIS_REPLY_ERROR)
        << RenderCommand(cmd) << " -> " << Render(r.get());
  }
  ASSERT_EQ(c.Run({"SELECT", "0"}), "status:\"OK\"");
}

// Field `name` of a flat RESP2 name/value array (XINFO STREAM).
inline std::string FieldOf(const redisReply* r, std::string_view name) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return "?";
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    if (std::string_view(r->element[i]->str, r->element[i]->len) == name) {
      return Render(r->element[i + 1]);
    }
  }
  return "missing";
}

// Renders a reply with absolute times (integers >= 10^12: delivery and seen times) masked.
inline std::string RenderWithoutTimes(const redisReply* r) {
  if (r == nullptr) return "io-error";
  if (r->type == REDIS_REPLY_INTEGER && r->integer >= 1000000000000LL) return "int:T";
  if (r->type != REDIS_REPLY_ARRAY) return Render(r);
  std::string out = "arr:[";
  for (size_t i = 0; i < r->elements; ++i) {
    if (i > 0) out += ",";
    out += RenderWithoutTimes(r->element[i]);
  }
  return out + "]";
}

// The value of `key` in the selected db: type and contents (order-free where Redis's order is
// unspecified). Encodings are not compared (OBJECT ENCODING tests cover them).
inline std::string DescribeValue(Client& c, const std::string& key) {
  ReplyPtr t = c.Command({"TYPE", key});
  if (t == nullptr) return "io-error";
  std::string type(t->str, t->len);
  std::string out = type + ":";
  if (type == "string") {
    out += Render(c.Command({"GET", key}).get());
  } else if (type == "list") {
    out += Render(c.Command({"LRANGE", key, "0", "-1"}).get());
  } else if (type == "set") {
    out += RenderSet(c.Command({"SMEMBERS", key}).get());
  } else if (type == "hash") {
    ReplyPtr r = c.Command({"HGETALL", key});
    std::vector<std::string> pairs;
    for (size_t i = 0; r && i + 1 < r->elements; i += 2) {
      pairs.push_back(Render(r->element[i]) + "=" + Render(r->element[i + 1]));
    }
    std::sort(pairs.begin(), pairs.end());
    out += absl::StrJoin(pairs, ",");
  } else if (type == "zset") {
    out += Render(c.Command({"ZRANGE", key, "0", "-1", "WITHSCORES"}).get());
  } else if (type == "stream") {
    out += Render(c.Command({"XRANGE", key, "-", "+"}).get());
    ReplyPtr info = c.Command({"XINFO", "STREAM", key});
    for (const char* f : {"length", "last-generated-id", "max-deleted-entry-id", "entries-added",
                          "recorded-first-entry-id"}) {
      absl::StrAppend(&out, " ", f, "=", FieldOf(info.get(), f));
    }
    // Consumer groups, PELs and consumers (times masked: each server made its own).
    ReplyPtr full = c.Command({"XINFO", "STREAM", key, "FULL", "COUNT", "0"});
    const redisReply* groups = nullptr;
    for (size_t i = 0; full && full->type == REDIS_REPLY_ARRAY && i + 1 < full->elements; i += 2) {
      if (std::string_view(full->element[i]->str, full->element[i]->len) == "groups") {
        groups = full->element[i + 1];
      }
    }
    absl::StrAppend(&out, " groups=", RenderWithoutTimes(groups));
  }
  return out;
}

// PTTL of `key` in the selected db (-1 none, -2 missing).
inline int64_t ExpireTimeOf(Client& c, const std::string& key) {
  ReplyPtr r = c.Command({"PEXPIRETIME", key});
  return r != nullptr && r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
}

inline int64_t PttlOf(Client& c, const std::string& key) {
  ReplyPtr r = c.Command({"PTTL", key});
  return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
}

// Every key of the selected db, sorted.
inline std::vector<std::string> KeysOf(Client& c) {
  ReplyPtr r = c.Command({"KEYS", "*"});
  std::vector<std::string> keys;
  for (size_t i = 0; r && i < r->elements; ++i)
    keys.emplace_back(r->element[i]->str, r->element[i]->len);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Compares every database of two servers key by key: same keys, same values, expiry times within
// a second.
inline void ExpectSameDataset(Client& expected, Client& actual, const std::string& what) {
  for (int db = 0; db < 16; ++db) {
    std::string n = absl::StrCat(db);
    ASSERT_EQ(expected.Run({"SELECT", n}), "status:\"OK\"");
    ASSERT_EQ(actual.Run({"SELECT", n}), "status:\"OK\"");
    std::vector<std::string> keys = KeysOf(expected);
    ASSERT_EQ(KeysOf(actual), keys) << what << ": keys of db " << db;
    for (const std::string& key : keys) {
      EXPECT_EQ(DescribeValue(actual, key), DescribeValue(expected, key))
          << what << ": db " << db << " key " << Escape(key);
      // Absolute expiry times (as the files store them), which do not drift however slowly the
      // comparison runs; within a second, for datasets two servers built each at its own time.
      int64_t a = ExpireTimeOf(actual, key), e = ExpireTimeOf(expected, key);
      if (e < 0) {
        EXPECT_EQ(a, e) << what << ": expiry of " << Escape(key);
      } else {
        EXPECT_LE(std::llabs(a - e), 1000) << what << ": expiry of " << Escape(key);
      }
    }
  }
  expected.Run({"SELECT", "0"});
  actual.Run({"SELECT", "0"});
}

}  // namespace shardis::test
