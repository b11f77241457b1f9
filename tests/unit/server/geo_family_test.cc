// Unit tests of the GEO commands (server/commands/geo_family.cc) and of storage/geohash, run
// through the command table with the in-process CommandHarness with one and with four shards, so
// the STORE forms run both on one shard and as cross-shard fan-outs. Expected replies are
// redis-server 7.0.15's, byte for byte (RESP2 unless a test says RESP3).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/command.h"
#include "storage/geohash.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& e) { return "-" + e + "\r\n"; }
std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string Arr(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& i : items) out += i;
  return out;
}
std::string Bulks(const std::vector<std::string>& items) {
  std::vector<std::string> encoded;
  for (const std::string& i : items) encoded.push_back(Bulk(i));
  return Arr(encoded);
}
const std::string kNil = "$-1\r\n";
const std::string kNilArray = "*-1\r\n";
const std::string kEmpty = "*0\r\n";
const std::string kWrongType =
    Err("WRONGTYPE Operation against a key holding the wrong kind of value");
const std::string kSyntax = Err("ERR syntax error");

class GeoFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  GeoFamilyTest() : h_(GetParam()) {}
  std::string Run(std::vector<std::string> args) { return h_.Run(std::move(args)); }
  void AddSicily() {
    ASSERT_EQ(Run({"GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269",
                   "37.502669", "Catania"}),
              Int(2));
  }
  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, GeoFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Shards" + std::to_string(info.param);
                         });

TEST(GeohashTest, EncodeDecodeAndDistance) {
  geo::HashBits hash;
  ASSERT_TRUE(geo::EncodeWGS84(13.361389, 38.115556, geo::kStepMax, &hash));
  EXPECT_EQ(geo::Align52(hash), 3479099956230698ULL);
  double xy[2];
  geo::DecodeScore(3479099956230698.0, xy);
  EXPECT_NEAR(xy[0], 13.361389, 1e-5);
  EXPECT_NEAR(xy[1], 38.115556, 1e-5);
  char buf[11];
  geo::StandardGeohash(xy[0], xy[1], buf);
  EXPECT_EQ(std::string(buf, 11), "sqc8b49rny0");
  EXPECT_FALSE(geo::ValidLongLat(180.0001, 0));
  EXPECT_FALSE(geo::ValidLongLat(0, 85.06));
  EXPECT_TRUE(geo::ValidLongLat(-180, -85.05112878));
  EXPECT_DOUBLE_EQ(geo::Distance(1, 2, 1, 2), 0);
  // Across the antimeridian the distance is the short way round.
  EXPECT_LT(geo::Distance(179.9, 0, -179.9, 0), 23000);
  EXPECT_EQ(geo::EstimateStepsByRadius(0, 0), 26);
  EXPECT_EQ(geo::EstimateStepsByRadius(1e9, 0), 1);
}

TEST(GeohashTest, NeighborsWrapAroundTheAntimeridian) {
  geo::HashBits hash;
  ASSERT_TRUE(geo::EncodeWGS84(179.99, 0, 10, &hash));
  geo::Neighbors n;
  geo::GetNeighbors(hash, &n);
  geo::Area east;
  ASSERT_TRUE(geo::Decode({-180, 180}, {geo::kLatMin, geo::kLatMax}, n.east, &east));
  EXPECT_DOUBLE_EQ(east.longitude.min, -180);
}

TEST_P(GeoFamilyTest, GeoaddOptionsAndErrors) {
  AddSicily();
  EXPECT_EQ(Run({"ZRANGE", "Sicily", "0", "-1", "WITHSCORES"}),
            Bulks({"Palermo", "3479099956230698", "Catania", "3479447370796909"}));
  EXPECT_EQ(Run({"GEOADD", "Sicily", "200", "100", "x"}),
            Err("ERR invalid longitude,latitude pair 200.000000,100.000000"));
  EXPECT_EQ(Run({"GEOADD", "Sicily", "abc", "1", "x"}), Err("ERR value is not a valid float"));
  EXPECT_EQ(Run({"GEOADD", "Sicily", "NX", "XX", "1", "2", "x"}), kSyntax);
  EXPECT_EQ(Run({"GEOADD", "Sicily", "NX", "CH", "CH"}), kSyntax);
  EXPECT_EQ(Run({"GEOADD", "Sicily", "1", "2"}),
            Err("ERR wrong number of arguments for 'geoadd' command"));
  EXPECT_EQ(Run({"GEOADD", "Sicily", "1", "2", "a", "3"}), kSyntax);
  EXPECT_EQ(Run({"GEOADD", "Sicily", "CH", "1", "1", "Palermo", "2", "2", "new"}), Int(2));
  EXPECT_EQ(Run({"GEOADD", "Sicily", "NX", "5", "5", "Palermo"}), Int(0));
  EXPECT_EQ(Run({"GEOADD", "Sicily", "XX", "5", "5", "other"}), Int(0));
  EXPECT_EQ(Run({"GEOADD", "nokey", "XX", "5", "5", "other"}), Int(0));
  EXPECT_EQ(Run({"EXISTS", "nokey"}), Int(0));
  EXPECT_EQ(Run({"SET", "str", "x"}), "+OK\r\n");
  EXPECT_EQ(Run({"GEOADD", "str", "1", "1", "a"}), kWrongType);
  // Coordinates are checked before the key's type.
  EXPECT_EQ(Run({"GEOADD", "str", "1", "91", "a"}),
            Err("ERR invalid longitude,latitude pair 1.000000,91.000000"));
}

TEST_P(GeoFamilyTest, GeodistGeohashGeopos) {
  AddSicily();
  EXPECT_EQ(Run({"GEODIST", "Sicily", "Palermo", "Catania", "km"}), Bulk("166.2742"));
  EXPECT_EQ(Run({"GEODIST", "Sicily", "Palermo", "Catania", "yd"}),
            Err("ERR unsupported unit provided. please use M, KM, FT, MI"));
  EXPECT_EQ(Run({"GEODIST", "Sicily", "Palermo", "Catania", "km", "x"}), kSyntax);
  EXPECT_EQ(Run({"GEODIST", "Sicily", "Palermo", "nope"}), kNil);
  EXPECT_EQ(Run({"GEODIST", "nokey", "a", "b"}), kNil);
  EXPECT_EQ(Run({"GEOHASH", "Sicily", "Palermo", "nope", "Catania"}),
            Arr({Bulk("sqc8b49rny0"), kNil, Bulk("sqdtr74hyu0")}));
  EXPECT_EQ(Run({"GEOHASH", "nokey", "a"}), Arr({kNil}));
  EXPECT_EQ(Run({"GEOPOS", "Sicily", "Palermo", "nope"}),
            Arr({Bulks({"13.36138933897018433", "38.11555639549629859"}), kNilArray}));
  EXPECT_EQ(Run({"GEOPOS", "nokey", "a"}), Arr({kNilArray}));
  EXPECT_EQ(Run({"SET", "str", "x"}), "+OK\r\n");
  EXPECT_EQ(Run({"GEOPOS", "str", "a"}), kWrongType);
  EXPECT_EQ(Run({"GEODIST", "str", "a", "b"}), kWrongType);
}

TEST_P(GeoFamilyTest, SearchRepliesAndOptions) {
  AddSicily();
  EXPECT_EQ(Run({"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC",
                 "WITHDIST", "WITHHASH"}),
            Arr({Arr({Bulk("Catania"), Bulk("56.4413"), Int(3479447370796909)}),
                 Arr({Bulk("Palermo"), Bulk("190.4424"), Int(3479099956230698)})}));
  EXPECT_EQ(Run({"GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC", "COUNT", "1"}),
            Bulks({"Palermo"}));
  EXPECT_EQ(Run({"GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "0", "m"}), Bulks({"Palermo"}));
  EXPECT_EQ(Run({"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km",
                 "COUNT", "1", "ANY"}),
            Bulks({"Palermo"}));
  EXPECT_EQ(Run({"GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "m"}), kEmpty);
  EXPECT_EQ(Run({"GEOSEARCH", "Sicily", "FROMMEMBER", "x", "BYRADIUS", "1", "m"}),
            Err("ERR could not decode requested zset member"));
  EXPECT_EQ(Run({"geoSearch", "Sicily", "BYRADIUS", "1", "m", "ASC", "WITHDIST"}),
            Err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geoSearch"));
  EXPECT_EQ(Run({"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "ASC", "WITHDIST"}),
            Err("ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"));
  EXPECT_EQ(Run({"GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"}),
            Err("ERR the ANY argument requires COUNT argument"));
  EXPECT_EQ(Run({"GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"}),
            Err("ERR COUNT must be > 0"));
  EXPECT_EQ(Run({"GEORADIUS", "Sicily", "15", "37", "-1", "km"}),
            Err("ERR radius cannot be negative"));
  EXPECT_EQ(Run({"GEORADIUS", "Sicily", "15", "37", "x", "km"}), Err("ERR need numeric radius"));
  EXPECT_EQ(Run({"GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "-1", "1", "km"}),
            Err("ERR height or width cannot be negative"));
  EXPECT_EQ(Run({"GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "d"}), kSyntax);
  EXPECT_EQ(Run({"GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "WITHDIST"}),
            Err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
                "WITHCOORD options"));
}

TEST_P(GeoFamilyTest, StoreFormsOnOneShardAndAcross) {
  AddSicily();
  // With four shards "dst" lives away from the source: the fan-out path runs.
  if (GetParam() == 4) {
    ASSERT_NE(ShardOfKey("dst", 4), ShardOfKey("Sicily", 4));
  }
  for (const std::string dst : {"dst", "{Sicily}dst"}) {
    EXPECT_EQ(Run({"GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", dst}), Int(2));
    EXPECT_EQ(Run({"ZRANGE", dst, "0", "-1", "WITHSCORES"}),
              Bulks({"Palermo", "3479099956230698", "Catania", "3479447370796909"}));
    EXPECT_EQ(Run({"GEOSEARCHSTORE", dst, "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200",
                   "km", "STOREDIST", "COUNT", "1"}),
              Int(1));
    EXPECT_EQ(Run({"ZRANGE", dst, "0", "-1", "WITHSCORES"}),
              Bulks({"Catania", "56.441257870158204"}));
    // Nothing found, or no source: the destination is deleted.
    EXPECT_EQ(Run({"GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "m", "STOREDIST", dst}), Int(1));
    EXPECT_EQ(Run({"GEORADIUS", "Sicily", "0", "0", "1", "m", "STORE", dst}), Int(0));
    EXPECT_EQ(Run({"EXISTS", dst}), Int(0));
    EXPECT_EQ(Run({"SET", dst, "x"}), "+OK\r\n");
    EXPECT_EQ(Run({"GEOSEARCHSTORE", dst, "nokey", "FROMMEMBER", "a", "BYRADIUS", "1", "m"}),
              Int(0));
    EXPECT_EQ(Run({"EXISTS", dst}), Int(0));
  }
}

TEST_P(GeoFamilyTest, EdgesPolesAndAntimeridian) {
  EXPECT_EQ(Run({"GEOADD", "k", "180", "0", "e", "-180", "0", "w", "0", "85.05112878", "n", "0",
                 "-85.05112878", "s"}),
            Int(4));
  EXPECT_EQ(Run({"GEOSEARCH", "k", "FROMLONLAT", "179.9", "0", "BYRADIUS", "50", "km", "ASC",
                 "WITHDIST"}),
            Arr({Arr({Bulk("w"), Bulk("11.1229")})}));
  EXPECT_EQ(
      Run({"GEOSEARCH", "k", "FROMLONLAT", "0", "-85", "BYBOX", "50", "50", "km", "WITHDIST"}),
      Arr({Arr({Bulk("s"), Bulk("5.6867")})}));
  EXPECT_EQ(Run({"GEOPOS", "k", "e", "w"}),
            Arr({Bulks({"180", "0.00000126736058093"}),
                 Bulks({"-179.99999731779098511", "0.00000126736058093"})}));
}

TEST_P(GeoFamilyTest, Resp3Coordinates) {
  CommandHarness h(GetParam(), RespVersion::kResp3);
  h.Run({"GEOADD", "k", "13.361389", "38.115556", "Palermo"});
  EXPECT_EQ(h.Run({"GEOPOS", "k", "Palermo", "nope"}),
            "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n");
  EXPECT_EQ(h.Run({"GEODIST", "k", "Palermo", "Palermo"}), Bulk("0.0000"));
}

TEST_P(GeoFamilyTest, GeoradiusKeysIncludeTheStoreKey) {
  const CommandSpec* spec = CommandTable::Get().Find("georadius");
  ASSERT_NE(spec, nullptr);
  std::vector<std::string_view> args = {"GEORADIUS", "a",         "1", "2",     "3",
                                        "km",        "STOREDIST", "b", "STORE", "c"};
  std::vector<int> positions;
  CommandTable::KeyPositions(*spec, args, &positions);
  EXPECT_EQ(positions, (std::vector<int>{1, 9, 7}));
}

}  // namespace
}  // namespace shardis
