// Tests for the incremental snapshot (rdb::ShardSnapshot) and Db's pre-write hook: a snapshot
// walked in small steps while the databases change between steps (overwrites, deletes, inserts,
// in-place changes of collections, Take, expiry changes, lazy and active expiry, FLUSHDB, SWAPDB)
// holds exactly the keys live at its instant, with their values at the instant, each once; a
// second snapshot after it (the epoch bit flipped back) again holds everything; with spilling,
// little stays in memory and the temp files go with the snapshot.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "storage/list_value.h"
#include "storage/rdb/rdb_file.h"
#include "storage/rdb/rdb_snapshot.h"

namespace shardis::rdb {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

using Dataset = std::map<std::pair<int, std::string>, std::string>;  // (db, key) -> value

// A value's comparable form: the string, or the list's elements joined.
std::string Describe(const Value& v) {
  if (v.type == ValueType::kString) return "s:" + v.str;
  std::string out = "l:";
  const auto* list = v.As<ListValue>();
  for (size_t i = 0; i < list->size(); ++i) out += std::string(list->At(i)) + ",";
  return out;
}
std::string Describe(const Entry& e) {
  if (e.type() == ValueType::kString) return "s:" + std::string(e.str());
  std::string out = "l:";
  const auto* list = e.As<ListValue>();
  for (size_t i = 0; i < list->size(); ++i) out += std::string(list->At(i)) + ",";
  return out;
}

// The live contents of every database, now.
Dataset Contents(ShardData& shard) {
  Dataset out;
  for (int db = 0; db < shard.db_count(); ++db) {
    uint64_t cursor = 0;
    do {
      cursor = shard.db(db).keyspace().Scan(cursor, 64, [&](Entry& e) {
        if (e.dead() || shard.db(db).IsExpired(e)) return;
        out[{db, std::string(e.key())}] = Describe(e);
      });
    } while (cursor != 0);
  }
  return out;
}

// Writes the snapshot's sections as a file and parses it back; fails on a duplicate key.
Dataset Load(ShardSnapshot& snap, int64_t now_ms) {
  char tmpl[] = "/tmp/snaptestXXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::vector<std::vector<DbSection*>> dbs(snap.sections().size());
  for (size_t i = 0; i < dbs.size(); ++i) dbs[i] = {&snap.sections()[i]};
  uint64_t size = 0;
  EXPECT_EQ(WriteFile(dir, "s.rdb", FileHeader({{"redis-ver", "7.0.15"}}), dbs, true, &size), "");
  std::ifstream in(dir + "/s.rdb", std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink((dir + "/s.rdb").c_str());
  rmdir(dir.c_str());
  Dataset out;
  LoadStats stats;
  EXPECT_EQ(ParseFile(
                data, LoadLimits{}, now_ms, 16,
                [&](LoadedKey&& k) {
                  bool fresh = out.emplace(std::make_pair(k.db, k.key), Describe(k.value)).second;
                  EXPECT_TRUE(fresh) << "duplicate key " << k.key;
                  return std::string();
                },
                &stats),
            "");
  return out;
}

class SnapshotTest : public ::testing::Test {
 protected:
  SnapshotTest() : shard_(4) { shard_.clock().now_ms = kStart; }

  void Put(int db, const std::string& key, const std::string& value) {
    shard_.db(db).Set(key, Value::FromString(value));
  }
  void PutList(int db, const std::string& key, int n) {
    auto list = std::make_unique<ListValue>();
    for (int i = 0; i < n; ++i) list->PushBack("e" + std::to_string(i));
    shard_.db(db).Set(key, Value::OfCollection(ValueType::kList, std::move(list)));
  }
  void Fill() {
    for (int i = 0; i < 3000; ++i) Put(0, "k" + std::to_string(i), "v" + std::to_string(i));
    for (int i = 0; i < 50; ++i) PutList(0, "list" + std::to_string(i), 3);
    for (int i = 0; i < 500; ++i) Put(1, "one" + std::to_string(i), "w" + std::to_string(i));
    for (int i = 0; i < 200; ++i) Put(2, "two" + std::to_string(i), "x" + std::to_string(i));
    // Expiring later (kept), and already expired at the instant (left out).
    for (int i = 0; i < 100; ++i) {
      Put(0, "ttl" + std::to_string(i), "t");
      shard_.db(0).SetExpiry(shard_.db(0).Find("ttl" + std::to_string(i)), kStart + 10'000);
    }
    for (int i = 0; i < 20; ++i) {
      Put(0, "old" + std::to_string(i), "o");
      shard_.db(0).SetExpiry(shard_.db(0).Find("old" + std::to_string(i)), kStart - 1);
    }
  }

  ShardData shard_;
};

TEST_F(SnapshotTest, UnchangedDatasetInSmallSteps) {
  Fill();
  Dataset expected = Contents(shard_);
  ShardSnapshot snap(shard_, SaveOptions{}, kStart);
  EXPECT_EQ(snap.keys_at_start(), 3000u + 50 + 500 + 200 + 100 + 20);
  int steps = 0;
  while (!snap.Step(0)) ++steps;
  EXPECT_GT(steps, 5);
  for (int db = 0; db < shard_.db_count(); ++db) EXPECT_FALSE(shard_.db(db).in_snapshot());
  EXPECT_EQ(snap.keys_saved(), expected.size());
  EXPECT_EQ(Load(snap, kStart), expected);
}

TEST_F(SnapshotTest, ChangesDuringTheWalkDoNotReachTheSnapshot) {
  Fill();
  Dataset expected = Contents(shard_);
  ShardSnapshot snap(shard_, SaveOptions{}, kStart);
  Db& db0 = shard_.db(0);
  int round = 0;
  while (!snap.Step(0)) {
    // Every kind of change, spread over the walk (keys both already walked and not yet).
    int i = round * 97 % 3000;
    Put(0, "k" + std::to_string(i), "changed");       // overwrite
    db0.Erase("k" + std::to_string((i + 1) % 3000));  // delete
    Put(0, "new" + std::to_string(round), "fresh");   // insert (not in the snapshot)
    if (auto taken = db0.Take("k" + std::to_string((i + 2) % 3000))) {  // RENAME/MOVE source
      db0.Set("moved" + std::to_string(round), std::move(taken->value));
    }
    bool inserted = false;
    Entry* e = db0.FindOrInsert("k" + std::to_string((i + 3) % 3000), &inserted);
    db0.SetString(e, "appended", StringEncoding::kRaw);  // in-place string change
    if (Entry* l = db0.Lookup("list" + std::to_string(round % 50))) {
      l->As<ListValue>()->PushBack("pushed");  // in-place collection change
    }
    if (Entry* t = db0.Find("ttl" + std::to_string(round % 100))) db0.ClearExpiry(t);
    if (round == 3) shard_.db(1).Clear();  // FLUSHDB mid-walk
    if (round == 5) shard_.SwapDbs(2, 3);  // SWAPDB mid-walk
    ++round;
  }
  EXPECT_GT(round, 5);
  EXPECT_EQ(Load(snap, kStart), expected);
}

TEST_F(SnapshotTest, ExpiryAfterTheInstantKeepsTheKeyInTheSnapshot) {
  Fill();
  Dataset expected = Contents(shard_);
  ShardSnapshot snap(shard_, SaveOptions{}, kStart);
  // Time passes: the ttl keys expire (lazily on lookup, actively, and through Scan) before the
  // walk reached them; they were live at the instant.
  shard_.clock().now_ms = kStart + 20'000;
  EXPECT_EQ(shard_.db(0).Find("ttl1"), nullptr);
  shard_.db(0).ActiveExpire(1'000'000);
  uint64_t cursor = 0;
  do {
    cursor = shard_.db(0).Scan(cursor, 8, [](Entry&) {});
  } while (cursor != 0);
  shard_.db(0).Maintain(1'000'000);
  snap.Finish();
  EXPECT_EQ(Load(snap, kStart), expected);
}

TEST_F(SnapshotTest, SpillsToTempFilesAndKeepsLittleInMemory) {
  Fill();
  Dataset expected = Contents(shard_);
  char tmpl[] = "/tmp/snapspillXXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string spill0;
  {
    ShardSnapshot snap(shard_, SaveOptions{}, kStart, dir + "/part", 1024);
    int round = 0;
    while (!snap.Step(0)) {
      EXPECT_LT(snap.bytes(), 4u * (1024 + 256));  // at most a threshold (+ a record) per db
      Put(0, "k" + std::to_string(round * 7 % 3000), "changed");
      if (round == 2) shard_.db(1).Clear();  // a whole db drained at once, spilled as it goes
      ++round;
    }
    EXPECT_EQ(snap.spill_error(), "");
    EXPECT_GT(snap.spilled_bytes(), 0u);
    spill0 = snap.sections()[0].spill_path;
    EXPECT_EQ(access(spill0.c_str(), F_OK), 0);
    EXPECT_EQ(Load(snap, kStart), expected);
  }
  EXPECT_NE(access(spill0.c_str(), F_OK), 0);  // removed with the snapshot
  rmdir(dir.c_str());
}

TEST_F(SnapshotTest, NextSnapshotSeesEverythingAgain) {
  Fill();
  {
    ShardSnapshot first(shard_, SaveOptions{}, kStart);
    int round = 0;
    while (!first.Step(0)) Put(0, "during" + std::to_string(round++), "d");
  }
  Put(1, "between", "b");
  Dataset expected = Contents(shard_);
  ShardSnapshot second(shard_, SaveOptions{}, kStart);
  while (!second.Step(0)) {
  }
  EXPECT_EQ(Load(second, kStart), expected);
}

}  // namespace
}  // namespace shardis::rdb
