// Differential test of the GEO commands: seeded random command sequences go to shardis-server
// (--threads 4 and --threads 1) and to the reference redis-server 7.0, and every reply must
// match byte for byte after rendering (distances, coordinates, hashes, and the order of unsorted
// results, which follows the geohash boxes Redis scans). Points cluster around the poles' limits,
// the antimeridian, the equator and Sicily; searches use radius 0, huge radii and boxes, COUNT
// with and without ANY, missing members and keys, invalid coordinates, units and options. The
// {t} keys share a shard so the STORE forms run both on one shard and across shards. Fixed
// scripts cover the error texts and the RESP3 reply shapes. The keyspace is compared every 200
// commands.
//
// Environment: SHARDIS_DIFF_COMMANDS (commands per sequence, default 2500), SHARDIS_DIFF_SEED
// (run only this seed), SHARDIS_DIFF_VERBOSE=1 (print every command and both replies).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

const std::vector<std::string>& GeoKeys() {
  static const std::vector<std::string> keys = {"g1", "g2", "{t}g3", "{t}g4", "g 5"};
  return keys;
}
const std::vector<std::string>& DstKeys() {
  static const std::vector<std::string> keys = {"dst", "{t}dst", "g1", "{t}g3", "str"};
  return keys;
}
std::vector<std::string> AllKeys() {
  std::vector<std::string> all = GeoKeys();
  all.push_back("dst");
  all.push_back("{t}dst");
  all.push_back("str");
  return all;
}

std::string Clip(const std::string& s, size_t n = 600) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

struct Center {
  double lon, lat;
};
const Center kCenters[] = {{13.361389, 38.115556}, {179.999, 0.5},   {-179.999, -0.5},
                           {0, 85.0511},           {0, -85.0511},    {0, 0},
                           {-73.985, 40.758},      {151.21, -33.86}, {100, 70}};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::vector<std::string> Next() {
    int pick = Rand(100);
    if (pick < 28) return Geoadd();
    if (pick < 34) return Geodist();
    if (pick < 38) return {Chance(0.5) ? "GEOHASH" : "GEOPOS", Key(), Member(), Member(), Member()};
    if (pick < 58) return Geosearch(false);
    if (pick < 66) return Geosearch(true);
    if (pick < 80) return Georadius(false);
    if (pick < 92) return Georadius(true);
    if (pick < 95) return {"ZREM", Key(), Member()};
    if (pick < 97) {
      if (Chance(0.3)) return {"DEL", Key()};
      return {"GEOSEARCH",
              Key(),
              "FROMMEMBER",
              CenterMember(),
              "BYRADIUS",
              Distance(),
              Unit(),
              "COUNT",
              absl::StrCat(1 + Rand(10)),
              Chance(0.5) ? "ASC" : "DESC"};
    }
    if (pick < 98) return {"SET", "str", "x"};
    return {"ZADD", Key(), Chance(0.5) ? "-5" : "9007199254740993", Member()};
  }

 private:
  int Rand(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  double Uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  std::string Key() {
    if (Chance(0.03)) return "str";
    if (Chance(0.03)) return "missing";
    return GeoKeys()[Rand(static_cast<int>(GeoKeys().size()))];
  }
  // Members m0..m199, most often among the first 40 (sets grow past the listpack limit).
  std::string Member() {
    if (Chance(0.05)) return "nomember";
    return absl::StrCat("m", Rand(Chance(0.5) ? 40 : 200));
  }
  // A search centre: mostly among the members every key soon has.
  std::string CenterMember() { return Chance(0.05) ? "nomember" : absl::StrCat("m", Rand(20)); }
  static std::string Fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6f", v);
    return buf;
  }
  // A longitude/latitude pair, mostly near a centre, sometimes invalid.
  void Coords(std::vector<std::string>* args) {
    if (Chance(0.03)) {
      const char* bad[][2] = {{"181", "0"},       {"0", "85.06"}, {"abc", "1"}, {"1", ""},
                              {"-180.0001", "0"}, {"inf", "0"},   {"0", "-90"}};
      int i = Rand(7);
      args->push_back(bad[i][0]);
      args->push_back(bad[i][1]);
      return;
    }
    if (Chance(0.05)) {
      const char* exact[][2] = {
          {"180", "85.05112878"}, {"-180", "-85.05112878"}, {"0", "0"}, {"180", "0"}, {"-180", "0"},
          {"1e1", "2e1"}};
      int i = Rand(6);
      args->push_back(exact[i][0]);
      args->push_back(exact[i][1]);
      return;
    }
    const Center& c = kCenters[Rand(static_cast<int>(std::size(kCenters)))];
    double spread = Chance(0.5) ? 0.5 : 5;
    double lon = std::clamp(c.lon + Uniform(-spread, spread), -180.0, 180.0);
    double lat = std::clamp(c.lat + Uniform(-spread, spread), -85.05, 85.05);
    args->push_back(Fmt(lon));
    args->push_back(Fmt(lat));
  }
  std::string Unit() {
    const char* units[] = {"m", "km", "KM", "ft", "mi", "Mi"};
    if (Chance(0.02)) return "yd";
    return units[Rand(6)];
  }
  // A distance in the unit just chosen: 0, small, large, huge, sometimes invalid.
  std::string Distance() {
    int p = Rand(100);
    if (p < 2) return Chance(0.5) ? "-1" : "x";
    if (p < 10) return "0";
    if (p < 40) return absl::StrCat(Rand(1000));
    if (p < 80) return absl::StrCat(Rand(500000));
    if (p < 95) return absl::StrCat(Rand(20000000));
    return "50000000";
  }

  std::vector<std::string> Geoadd() {
    std::vector<std::string> args = {"GEOADD", Key()};
    if (Chance(0.15)) args.push_back("NX");
    if (Chance(0.15)) args.push_back("XX");
    if (Chance(0.15)) args.push_back("CH");
    int n = 1 + Rand(8);
    for (int i = 0; i < n; ++i) {
      Coords(&args);
      args.push_back(Member());
    }
    if (Chance(0.02)) args.pop_back();
    return args;
  }
  std::vector<std::string> Geodist() {
    std::vector<std::string> args = {"GEODIST", Key(), Member(), Member()};
    if (Chance(0.7)) args.push_back(Unit());
    if (Chance(0.02)) args.push_back("extra");
    return args;
  }
  // WITH*, ASC/DESC, COUNT [ANY] options.
  void Options(std::vector<std::string>* args, bool store) {
    if (!store || Chance(0.03)) {
      if (Chance(0.4)) args->push_back("WITHDIST");
      if (Chance(0.3)) args->push_back("WITHCOORD");
      if (Chance(0.3)) args->push_back("WITHHASH");
    }
    if (Chance(0.3)) args->push_back(Chance(0.5) ? "ASC" : "DESC");
    if (Chance(0.35)) {
      args->push_back("COUNT");
      args->push_back(Chance(0.03) ? (Chance(0.5) ? "0" : "x")
                                   : absl::StrCat(1 + Rand(Chance(0.7) ? 6 : 60)));
      if (Chance(0.4)) args->push_back("ANY");
    } else if (Chance(0.02)) {
      args->push_back("ANY");
    }
  }
  std::vector<std::string> Geosearch(bool store) {
    std::vector<std::string> args;
    if (store) {
      args = {"GEOSEARCHSTORE", DstKeys()[Rand(static_cast<int>(DstKeys().size()))], Key()};
    } else {
      args = {"GEOSEARCH", Key()};
    }
    bool from = !Chance(0.03), by = !Chance(0.03);
    if (!from) {
    } else if (Chance(0.5)) {
      args.push_back("FROMMEMBER");
      args.push_back(CenterMember());
    } else {
      args.push_back("FROMLONLAT");
      Coords(&args);
    }
    if (!by) {
    } else if (Chance(0.5)) {
      args.push_back("BYRADIUS");
      args.push_back(Distance());
      args.push_back(Unit());
    } else {
      args.push_back("BYBOX");
      args.push_back(Distance());
      args.push_back(Distance());
      args.push_back(Unit());
    }
    Options(&args, store);
    if (store && Chance(0.4)) args.push_back("STOREDIST");
    if (Chance(0.02)) std::swap(args[args.size() - 1], args[args.size() - 2]);
    return args;
  }
  std::vector<std::string> Georadius(bool bymember) {
    bool ro = Chance(0.3);
    std::vector<std::string> args;
    if (bymember) {
      args = {ro ? "GEORADIUSBYMEMBER_RO" : "GEORADIUSBYMEMBER", Key(), CenterMember()};
    } else {
      args = {ro ? "GEORADIUS_RO" : "GEORADIUS", Key()};
      Coords(&args);
    }
    args.push_back(Distance());
    args.push_back(Unit());
    bool store = Chance(ro ? 0.05 : 0.35);
    Options(&args, store);
    if (store) {
      args.push_back(Chance(0.5) ? "STORE" : "STOREDIST");
      args.push_back(DstKeys()[Rand(static_cast<int>(DstKeys().size()))]);
    }
    return args;
  }

  std::mt19937_64 rng_;
};

struct DiffParam {
  int threads;
  uint64_t seed;
};

class DifferentialGeoTest : public ::testing::TestWithParam<DiffParam> {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(GetParam().threads, {}, &error);
    ASSERT_NE(shardis_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << "cannot start redis-server: " << error;
    sh_ = Client::Connect(shardis_->port(), seconds(10), &error);
    ASSERT_NE(sh_, nullptr) << error;
    ref_ = Client::Connect(redis_->port(), seconds(10), &error);
    ASSERT_NE(ref_, nullptr) << error;
  }

  void TearDown() override {
    sh_.reset();
    ref_.reset();
    if (shardis_ != nullptr) {
      bool alive = shardis_->Running();
      EXPECT_TRUE(alive) << ShardisLabel() << " died: " << shardis_->DescribeExit() << "\n"
                         << shardis_->LogTail();
      if (alive) EXPECT_TRUE(shardis_->Stop()) << shardis_->LogTail();
    }
  }

  std::string CompareState() {
    for (const std::string& key : AllKeys()) {
      for (const std::vector<std::string>& p : {std::vector<std::string>{"TYPE", key},
                                                {"ZRANGE", key, "0", "-1", "WITHSCORES"},
                                                {"OBJECT", "ENCODING", key}}) {
        std::string a = sh_->Run(p);
        std::string b = ref_->Run(p);
        if (a != b) {
          return absl::StrCat(RenderCommand(p), " differs:\n  ", ShardisLabel(), ": ", Clip(a),
                              "\n  redis:   ", Clip(b));
        }
      }
    }
    return "";
  }

  // Runs `args` on both servers; returns "" when the replies match, else a description.
  std::string Both(const std::vector<std::string>& args) {
    std::string a = sh_->Run(args);
    std::string b = ref_->Run(args);
    if (a == b) return "";
    return absl::StrCat(Clip(RenderCommand(args), 400), "\n  ", ShardisLabel(), ": ", Clip(a),
                        "\n  redis:   ", Clip(b));
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<Client> sh_, ref_;
};

TEST_P(DifferentialGeoTest, RandomGeoCommands) {
  const DiffParam param = GetParam();
  const int64_t commands = EnvInt("SHARDIS_DIFF_COMMANDS", 2500);
  const bool verbose = EnvInt("SHARDIS_DIFF_VERBOSE", 0) != 0;
  Generator gen(param.seed);
  int mismatches = 0;
  const std::string header =
      absl::StrCat("seed ", param.seed, ", ", ShardisLabel(), " --threads ", param.threads);
  for (int64_t i = 0; i < commands && mismatches < 15; ++i) {
    std::vector<std::string> args = gen.Next();
    ReplyPtr a = sh_->Command(args);
    ReplyPtr b = ref_->Command(args);
    ASSERT_NE(a, nullptr) << header << ": io-error at #" << i << " " << RenderCommand(args) << "\n"
                          << shardis_->LogTail();
    ASSERT_NE(b, nullptr) << "redis-server: " << ref_->error();
    std::string got = Render(a.get());
    std::string want = Render(b.get());
    if (verbose) {
      std::printf("#%lld %s\n  -> %s\n  == %s\n", static_cast<long long>(i),
                  Clip(RenderCommand(args), 300).c_str(), Clip(got, 300).c_str(),
                  Clip(want, 300).c_str());
    }
    if (got != want) {
      ++mismatches;
      ADD_FAILURE() << header << ": mismatch at command #" << i
                    << "\n  command: " << Clip(RenderCommand(args), 400) << "\n  " << ShardisLabel()
                    << ": " << Clip(got) << "\n  redis:   " << Clip(want);
    }
    if ((i + 1) % 200 == 0 || i + 1 == commands) {
      std::string diff = CompareState();
      if (!diff.empty()) {
        ++mismatches;
        ADD_FAILURE() << header << ": state differs after command #" << i << ":\n" << diff;
        sh_->Run({"FLUSHDB"});
        ref_->Run({"FLUSHDB"});
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << header;
}

// Errors, edge cases and exact formats over a fixed script.
TEST_P(DifferentialGeoTest, EdgeCasesMatch) {
  const std::vector<std::vector<std::string>> script = {
      {"GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
       "Catania"},
      {"GEOADD", "Sicily", "200", "100", "x"},
      {"GEOADD", "Sicily", "abc", "10", "x"},
      {"GEOADD", "Sicily", "NX", "XX", "1", "2", "x"},
      {"GEOADD", "Sicily", "NX", "CH", "CH"},
      {"GEOADD", "Sicily", "1", "2"},
      {"GEOADD", "Sicily", "CH", "13.361389", "38.115556", "Palermo", "1", "2", "new"},
      {"GEOADD", "Sicily", "XX", "CH", "3", "4", "new", "5", "6", "never"},
      {"GEOADD", "Sicily", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0",
       "origin", "179.9999", "0.0001", "east", "-179.9999", "-0.0001", "west"},
      {"GEOADD", "Sicily", "180.000001", "0", "x"},
      {"GEOADD", "Sicily", "0", "85.05112879", "x"},
      {"ZRANGE", "Sicily", "0", "-1", "WITHSCORES"},
      {"GEODIST", "Sicily", "Palermo", "Catania"},
      {"GEODIST", "Sicily", "Palermo", "Catania", "km"},
      {"GEODIST", "Sicily", "Palermo", "Catania", "MI"},
      {"GEODIST", "Sicily", "Palermo", "Catania", "ft"},
      {"GEODIST", "Sicily", "Palermo", "Catania", "yd"},
      {"GEODIST", "Sicily", "Palermo", "Catania", "km", "x"},
      {"GEODIST", "Sicily", "Palermo", "nope"},
      {"GEODIST", "Sicily", "Palermo", "Palermo"},
      {"GEODIST", "Sicily", "east", "west"},
      {"GEODIST", "Sicily", "ne", "sw"},
      {"GEODIST", "nokey", "a", "b"},
      {"GEOHASH", "Sicily", "Palermo", "Catania", "nope", "ne", "sw", "origin", "east", "west"},
      {"GEOHASH", "nokey", "a", "b"},
      {"GEOHASH", "Sicily"},
      {"GEOPOS", "Sicily", "Palermo", "nope", "ne", "sw", "origin", "east", "west"},
      {"GEOPOS", "nokey", "a"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC", "COUNT", "1"},
      {"GEORADIUS", "Sicily", "0", "0", "20000", "km"},
      {"GEORADIUS", "Sicily", "0", "0", "0", "km", "WITHDIST"},
      {"GEORADIUS", "Sicily", "180", "0", "50", "km", "WITHDIST", "ASC"},
      {"GEORADIUS", "Sicily", "15", "37", "-1", "km"},
      {"GEORADIUS", "Sicily", "15", "37", "x", "km"},
      {"GEORADIUS", "Sicily", "15", "37", "10", "yards"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "x"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst", "WITHDIST"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"},
      {"ZRANGE", "dst", "0", "-1", "WITHSCORES"},
      {"GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "{t}dst"},
      {"ZRANGE", "{t}dst", "0", "-1", "WITHSCORES"},
      {"GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "{t}dst"},
      {"EXISTS", "{t}dst"},
      {"GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "dst"},
      {"GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST"},
      {"GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km"},
      {"GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STORE", "dst", "WITHHASH"},
      {"GEORADIUSBYMEMBER_RO", "Sicily", "east", "100", "km", "WITHDIST"},
      {"GEORADIUSBYMEMBER", "nokey", "nope", "200", "km", "WITHDIST"},
      {"GEORADIUSBYMEMBER", "nokey", "nope", "200", "km", "STORE", "dst"},
      {"EXISTS", "dst"},
      {"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "ASC",
       "WITHCOORD", "WITHDIST"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "180", "0", "BYBOX", "100", "100", "km", "WITHDIST"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "0", "85", "BYRADIUS", "5000", "km", "WITHDIST"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "50000", "km", "WITHDIST"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "50000", "km", "COUNT", "2",
       "ANY"},
      {"GEOSEARCH", "Sicily", "FROMMEMBER", "origin", "BYRADIUS", "0", "m", "WITHDIST"},
      {"GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"},
      {"GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"},
      {"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYBOX", "4", "4",
       "km"},
      {"GEOSEARCH", "Sicily", "BYBOX", "400", "400", "km", "ASC"},
      {"geoSearch", "Sicily", "BYBOX", "400", "400", "km", "ASC"},
      {"GeoSearchStore", "d", "Sicily", "FROMLONLAT", "1", "2", "ASC", "DESC"},
      {"GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "2", "ASC", "WITHDIST"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "WITHDIST"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "BYBOX", "1", "1",
       "km"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "-1", "1", "km"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "a", "1", "km"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "a", "km"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "1", "kmx"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE", "x"},
      {"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STOREDIST"},
      {"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
       "STOREDIST"},
      {"ZRANGE", "dst", "0", "-1", "WITHSCORES"},
      {"GEOSEARCHSTORE", "{t}dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
       "COUNT", "1"},
      {"ZRANGE", "{t}dst", "0", "-1", "WITHSCORES"},
      {"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
       "WITHDIST"},
      {"GEOSEARCHSTORE", "dst", "nokey", "FROMMEMBER", "x", "BYRADIUS", "200", "km"},
      {"EXISTS", "dst"},
      {"SET", "str", "x"},
      {"GEOADD", "str", "1", "1", "a"},
      {"GEOSEARCH", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"},
      {"GEORADIUS", "str", "1", "2", "1", "km"},
      {"GEORADIUSBYMEMBER", "str", "a", "x", "km"},
      {"GEOPOS", "str", "a"},
      {"GEOHASH", "str", "a"},
      {"GEODIST", "str", "a", "b"},
      {"GEOSEARCHSTORE", "str", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
      {"TYPE", "str"},
      {"ZADD", "weird", "-1", "neg", "9007199254740993", "big", "1e300", "huge"},
      {"GEOPOS", "weird", "neg", "big", "huge"},
      {"GEOHASH", "weird", "neg", "big", "huge"},
      {"COMMAND", "GETKEYS", "GEORADIUS", "a", "1", "2", "3", "km", "STORE", "b"},
      {"COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "a", "1", "2", "km", "STOREDIST", "b"},
      {"COMMAND", "GETKEYS", "GEOSEARCHSTORE", "a", "b", "FROMMEMBER", "m", "BYRADIUS", "1", "m"},
  };
  for (const auto& args : script) {
    std::string diff = Both(args);
    EXPECT_TRUE(diff.empty()) << diff;
  }
  for (const char* name :
       {"geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember",
        "georadiusbymember_ro", "geosearch", "geosearchstore"}) {
    // The legacy part of COMMAND INFO: name, arity, flags, first/last/step, ACL categories.
    ReplyPtr a = sh_->Command({"COMMAND", "INFO", name});
    ReplyPtr b = ref_->Command({"COMMAND", "INFO", name});
    ASSERT_TRUE(a && b && a->type == REDIS_REPLY_ARRAY && b->type == REDIS_REPLY_ARRAY);
    ASSERT_EQ(a->elements, 1u);
    ASSERT_EQ(b->elements, 1u);
    for (size_t i = 0; i < 7; ++i) {
      EXPECT_EQ(Render(a->element[0]->element[i]), Render(b->element[0]->element[i]))
          << name << " field " << i;
    }
  }
}

// RESP3 reply shapes (coordinates as doubles, nulls) byte for byte.
TEST_P(DifferentialGeoTest, Resp3RepliesMatch) {
  std::string error;
  auto sh = RawConnection::Connect(shardis_->port(), &error);
  ASSERT_NE(sh, nullptr) << error;
  auto ref = RawConnection::Connect(redis_->port(), &error);
  ASSERT_NE(ref, nullptr) << error;
  const std::vector<std::vector<std::string>> script = {
      {"HELLO", "3"},
      {"GEOADD", "k", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania", "0",
       "0", "zero"},
      {"GEOPOS", "k", "Palermo", "nope", "zero"},
      {"GEOPOS", "nokey", "a"},
      {"GEOHASH", "k", "Palermo", "nope"},
      {"GEODIST", "k", "Palermo", "Catania", "km"},
      {"GEODIST", "k", "Palermo", "nope"},
      {"GEOSEARCH", "k", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHCOORD",
       "WITHDIST", "WITHHASH"},
      {"GEORADIUS", "k", "15", "37", "200", "km", "WITHCOORD"},
      {"GEOSEARCH", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
  };
  for (const auto& args : script) {
    std::string got = sh->Run(args);
    std::string want = ref->Run(args);
    if (args[0] == "HELLO") continue;  // server names and versions differ
    EXPECT_EQ(got, want) << RenderCommand(args);
  }
}

std::vector<DiffParam> Params() {
  int64_t seed = EnvInt("SHARDIS_DIFF_SEED", 0);
  if (seed != 0) return {{4, static_cast<uint64_t>(seed)}, {1, static_cast<uint64_t>(seed)}};
  return {{4, 1}, {4, 2}, {1, 3}};
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialGeoTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<DiffParam>& info) {
                           return absl::StrCat("Threads", info.param.threads, "Seed",
                                               info.param.seed);
                         });

}  // namespace
}  // namespace shardis::test
