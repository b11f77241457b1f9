// The GEO commands (GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE GEORADIUS
// GEORADIUSBYMEMBER and the _RO variants), with redis-server 7.0's semantics, reply shapes and
// error texts. Points live in sorted sets whose scores are 52-bit geohashes (storage/geohash.h);
// any sorted set can be queried.
//
// on_shard handlers run on the thread of the shard that owns the keys. The storing searches
// (GEOSEARCHSTORE, GEORADIUS* STORE/STOREDIST) may name a destination on another shard: their
// on_client handler (connection's thread) runs the search on the source's shard, which copies
// the results, then stores them on the destination's shard in a second phase (correct but not
// atomic across shards, like ZRANGESTORE).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "server/command.h"
#include "server/commands/zset_family.h"
#include "server/config.h"
#include "storage/geohash.h"
#include "storage/shard_data.h"

namespace shardis {
namespace {

constexpr std::string_view kUnitErr = "ERR unsupported unit provided. please use M, KM, FT, MI";
constexpr std::string_view kMemberErr = "ERR could not decode requested zset member";

// A unit's size in meters; false when it is not M, KM, FT or MI.
bool ParseUnit(std::string_view unit, double* to_meters) {
  if (cmd::EqualsIgnoreCase(unit, "m")) {
    *to_meters = 1;
  } else if (cmd::EqualsIgnoreCase(unit, "km")) {
    *to_meters = 1000;
  } else if (cmd::EqualsIgnoreCase(unit, "ft")) {
    *to_meters = 0.3048;
  } else if (cmd::EqualsIgnoreCase(unit, "mi")) {
    *to_meters = 1609.34;
  } else {
    return false;
  }
  return true;
}

// Redis's extractLongLatOrReply: two floats, inside the indexable area. Returns the error text,
// or "" on success.
std::string ParseLongLat(std::string_view lon, std::string_view lat, double* xy) {
  if (!cmd::ParseDouble(lon, &xy[0]) || !cmd::ParseDouble(lat, &xy[1])) {
    return std::string(cmd::kNotFloatErr);
  }
  if (!geo::ValidLongLat(xy[0], xy[1])) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
    return buf;
  }
  return {};
}

// Redis's extractDistanceOrReply: a non-negative radius, then a unit.
std::string ParseDistance(std::string_view radius, std::string_view unit, geo::Shape* shape) {
  double r = 0;
  if (!cmd::ParseDouble(radius, &r)) return "ERR need numeric radius";
  if (r < 0) return "ERR radius cannot be negative";
  shape->radius = r;
  if (!ParseUnit(unit, &shape->conversion)) return std::string(kUnitErr);
  return {};
}

// Redis's extractBoxOrReply: width, height (non-negative), then a unit.
std::string ParseBox(std::string_view width, std::string_view height, std::string_view unit,
                     geo::Shape* shape) {
  double w = 0, h = 0;
  if (!cmd::ParseDouble(width, &w)) return "ERR need numeric width";
  if (!cmd::ParseDouble(height, &h)) return "ERR need numeric height";
  if (h < 0 || w < 0) return "ERR height or width cannot be negative";
  shape->width = w;
  shape->height = h;
  if (!ParseUnit(unit, &shape->conversion)) return std::string(kUnitErr);
  return {};
}

// Distances are bulk strings with 4 decimals in both protocols.
void ReplyDistance(ReplyBuilder& reply, double d) {
  char buf[128];
  int len = std::snprintf(buf, sizeof(buf), "%.4f", d);
  reply.Bulk(std::string_view(buf, static_cast<size_t>(len)));
}

// Coordinates: Redis's addReplyHumanLongDouble (a bulk string in RESP2, a double in RESP3).
void ReplyCoordinate(ReplyBuilder& reply, double v) {
  std::string text = cmd::FormatLongDouble(static_cast<long double>(v));
  if (reply.resp3()) {
    reply.Raw(Cat(",", text, "\r\n"));
  } else {
    reply.Bulk(text);
  }
}

// Looks up the sorted set at `key` for reading. *wrong_type when the key holds another type.
const ZSetValue* ReadGeoSet(Db& db, std::string_view key, bool* wrong_type) {
  *wrong_type = false;
  Entry* e = zset::LookupRead(db, key);
  if (e == nullptr) return nullptr;
  if (!zset::IsZSet(e)) {
    *wrong_type = true;
    return nullptr;
  }
  return zset::ZSetOf(e);
}

// ---------------------------------------------------------------------------------------------
// GEOADD (Redis's geoaddCommand, which hands ZADD the encoded scores)

void GeoaddCommand(ShardCommand& cmd) {
  ArgList args = cmd.args;
  bool nx = false, xx = false, ch = false;
  size_t longidx = 2;
  for (; longidx < args.size(); ++longidx) {
    std::string_view opt = args[longidx];
    if (cmd::EqualsIgnoreCase(opt, "nx")) {
      nx = true;
    } else if (cmd::EqualsIgnoreCase(opt, "xx")) {
      xx = true;
    } else if (cmd::EqualsIgnoreCase(opt, "ch")) {
      ch = true;
    } else {
      break;
    }
  }
  size_t remaining = args.size() - longidx;
  if (remaining % 3 != 0 || (xx && nx) || remaining == 0) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  size_t elements = remaining / 3;
  std::vector<double> scores(elements);
  for (size_t i = 0; i < elements; ++i) {
    double xy[2];
    std::string err = ParseLongLat(args[longidx + 3 * i], args[longidx + 3 * i + 1], xy);
    if (!err.empty()) {
      cmd.reply.Error(err);
      return;
    }
    geo::HashBits hash;
    geo::EncodeWGS84(xy[0], xy[1], geo::kStepMax, &hash);
    scores[i] = static_cast<double>(geo::Align52(hash));
  }
  std::string_view key = args[1];
  Entry* e = zset::LookupWrite(cmd.db, key);
  if (e != nullptr && !zset::IsZSet(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  int64_t added = 0, updated = 0;
  if (e == nullptr && !xx) {
    bool inserted = false;
    e = cmd.db.FindOrInsert(key, &inserted);
    cmd.db.Assign(e, Value::OfCollection(ValueType::kZSet, std::make_unique<ZSetValue>()));
  }
  if (e != nullptr) {
    ZSetValue* z = zset::ZSetOf(e);
    ZSetLimits limits = zset::LimitsOf(cmd.config);
    int flags = (nx ? kZAddNx : 0) | (xx ? kZAddXx : 0);
    for (size_t i = 0; i < elements; ++i) {
      double unused = 0;
      ZAddResult r = z->Add(scores[i], args[longidx + 3 * i + 2], flags, limits, &unused);
      if (r == ZAddResult::kAdded) ++added;
      if (r == ZAddResult::kUpdated) ++updated;
    }
    if (z->empty()) cmd.db.Erase(key);
    if (added + updated > 0) NotifyKeyspaceEvent(cmd, kNotifyZset, "zadd", key);  // as ZADD
  }
  cmd.reply.Integer(ch ? added + updated : added);
}

// ---------------------------------------------------------------------------------------------
// GEODIST GEOHASH GEOPOS

void GeodistCommand(ShardCommand& cmd) {
  double to_meters = 1;
  if (cmd.args.size() == 5) {
    if (!ParseUnit(cmd.args[4], &to_meters)) {
      cmd.reply.Error(kUnitErr);
      return;
    }
  } else if (cmd.args.size() > 5) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  bool wrong_type = false;
  const ZSetValue* z = ReadGeoSet(cmd.db, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  double s1 = 0, s2 = 0;
  if (z == nullptr || !z->Score(cmd.args[2], &s1) || !z->Score(cmd.args[3], &s2)) {
    cmd.reply.Null();
    return;
  }
  double a[2], b[2];
  geo::DecodeScore(s1, a);
  geo::DecodeScore(s2, b);
  ReplyDistance(cmd.reply, geo::Distance(a[0], a[1], b[0], b[1]) / to_meters);
}

void GeohashCommand(ShardCommand& cmd) {
  bool wrong_type = false;
  const ZSetValue* z = ReadGeoSet(cmd.db, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  cmd.reply.ArrayHeader(cmd.args.size() - 2);
  for (size_t j = 2; j < cmd.args.size(); ++j) {
    double score = 0;
    if (z == nullptr || !z->Score(cmd.args[j], &score)) {
      cmd.reply.Null();
      continue;
    }
    double xy[2];
    geo::DecodeScore(score, xy);
    char buf[11];
    geo::StandardGeohash(xy[0], xy[1], buf);
    cmd.reply.Bulk(std::string_view(buf, sizeof(buf)));
  }
}

void GeoposCommand(ShardCommand& cmd) {
  bool wrong_type = false;
  const ZSetValue* z = ReadGeoSet(cmd.db, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  cmd.reply.ArrayHeader(cmd.args.size() - 2);
  for (size_t j = 2; j < cmd.args.size(); ++j) {
    double score = 0;
    if (z == nullptr || !z->Score(cmd.args[j], &score)) {
      cmd.reply.NullArray();
      continue;
    }
    double xy[2];
    geo::DecodeScore(score, xy);
    cmd.reply.ArrayHeader(2);
    ReplyCoordinate(cmd.reply, xy[0]);
    ReplyCoordinate(cmd.reply, xy[1]);
  }
}

// ---------------------------------------------------------------------------------------------
// GEOSEARCH GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER (Redis's georadiusGeneric)

enum SearchFlag : int {
  kFromCoords = 1 << 0,  // GEORADIUS: lon lat radius unit
  kFromMember = 1 << 1,  // GEORADIUSBYMEMBER: member radius unit
  kNoStore = 1 << 2,     // the _RO variants
  kSearch = 1 << 3,      // GEOSEARCH syntax
  kSearchStore = 1 << 4  // GEOSEARCHSTORE: destination first, STOREDIST flag
};

enum class Sort : uint8_t { kNone, kAsc, kDesc };

struct GeoPoint {
  double longitude = 0;
  double latitude = 0;
  double dist = 0;  // meters while searching, the request's unit once returned
  double score = 0;
  std::string member;
};

// What a search decided, computed on the source's shard; owned copies only.
struct SearchResult {
  std::string error;  // non-empty: the reply is this error
  bool store = false;
  std::string store_key;
  bool storedist = false;
  bool withdist = false, withhash = false, withcoords = false;
  std::vector<GeoPoint> points;  // the returned items, in reply order
};

// Redis 7.0's pqsort (what GEO uses when COUNT keeps fewer items than were found): Bentley and
// McIlroy's quicksort (without the later switch to insertion sort when a pass swaps
// nothing) that only recurses into the parts overlapping the positions [lo, hi]. Its
// exact sequence of swaps is reproduced because it decides the order of equal distances.
template <typename Less>
class PartialSorter {
 public:
  PartialSorter(std::vector<GeoPoint>* v, Less less, size_t lo, size_t hi)
      : v_(*v), less_(less), lo_(lo), hi_(hi) {}

  void Sort(size_t a, size_t n) {
    for (;;) {
      if (n < 7) {
        InsertionSort(a, n);
        return;
      }
      size_t pm = a + n / 2;
      if (n > 7) {
        size_t pl = a;
        size_t pn = a + n - 1;
        if (n > 40) {
          size_t d = n / 8;
          pl = Med3(pl, pl + d, pl + 2 * d);
          pm = Med3(pm - d, pm, pm + d);
          pn = Med3(pn - 2 * d, pn - d, pn);
        }
        pm = Med3(pl, pm, pn);
      }
      Swap(a, pm);
      // Pivot at a; [a+1, pa) and (pd, a+n) hold elements equal to it.
      size_t pa = a + 1, pb = a + 1;
      ptrdiff_t pc = static_cast<ptrdiff_t>(a + n - 1), pd = pc;
      for (;;) {
        int r = 0;
        while (static_cast<ptrdiff_t>(pb) <= pc && (r = Cmp(pb, a)) <= 0) {
          if (r == 0) {
            Swap(pa, pb);
            ++pa;
          }
          ++pb;
        }
        while (static_cast<ptrdiff_t>(pb) <= pc && (r = Cmp(pc, a)) >= 0) {
          if (r == 0) {
            Swap(pc, pd);
            --pd;
          }
          --pc;
        }
        if (static_cast<ptrdiff_t>(pb) > pc) break;
        Swap(pb, pc);
        ++pb;
        --pc;
      }
      size_t pn = a + n;
      size_t r = std::min(pa - a, pb - pa);
      VecSwap(a, pb - r, r);
      r = std::min(static_cast<size_t>(pd - pc), pn - static_cast<size_t>(pd) - 1);
      VecSwap(pb, pn - r, r);
      r = pb - pa;
      if (r > 1 && Overlaps(a, r)) Sort(a, r);
      r = static_cast<size_t>(pd - pc);
      if (r <= 1) return;
      a = pn - r;
      n = r;
      if (!Overlaps(a, n)) return;
    }
  }

 private:
  int Cmp(size_t i, size_t j) const {
    if (less_(v_[i], v_[j])) return -1;
    if (less_(v_[j], v_[i])) return 1;
    return 0;
  }
  void Swap(size_t i, size_t j) { std::swap(v_[i], v_[j]); }
  void VecSwap(size_t i, size_t j, size_t n) {
    for (size_t k = 0; k < n; ++k) Swap(i + k, j + k);
  }
  size_t Med3(size_t a, size_t b, size_t c) const {
    return Cmp(a, b) < 0 ? (Cmp(b, c) < 0 ? b : (Cmp(a, c) < 0 ? c : a))
                         : (Cmp(b, c) > 0 ? b : (Cmp(a, c) < 0 ? a : c));
  }
  void InsertionSort(size_t a, size_t n) {
    for (size_t pm = a + 1; pm < a + n; ++pm) {
      for (size_t pl = pm; pl > a && Cmp(pl - 1, pl) > 0; --pl) Swap(pl, pl - 1);
    }
  }
  // Whether [a, a+n) holds any position of [lo, hi].
  bool Overlaps(size_t a, size_t n) const {
    size_t last = a + n - 1;
    return !((lo_ < a && hi_ < a) || (lo_ > last && hi_ > last));
  }

  std::vector<GeoPoint>& v_;
  Less less_;
  size_t lo_, hi_;
};

// Sorts by distance as Redis: a stable full sort (glibc's qsort is a merge sort) when every item
// is returned, else pqsort over the first `keep` positions.
template <typename Less>
void SortPoints(std::vector<GeoPoint>* pts, Less less, size_t keep) {
  if (keep >= pts->size()) {
    std::stable_sort(pts->begin(), pts->end(), less);
  } else if (keep > 0) {
    PartialSorter<Less>(pts, less, 0, keep - 1).Sort(0, pts->size());
  }
}

// Collects the members of `z` whose scores fall in the box `hash` and that lie in `shape`, in
// ascending score order, stopping at `limit` results in total (0: no limit).
void MembersOfBox(const ZSetValue& z, geo::HashBits hash, const geo::Shape& shape, size_t limit,
                  std::vector<GeoPoint>* out) {
  double min = static_cast<double>(geo::Align52(hash));
  hash.bits++;
  double max = static_cast<double>(geo::Align52(hash));
  ZRankSpan span = z.ScoreSpan(ZScoreRange{min, max, false, true});
  if (span.empty()) return;
  for (ZSetValue::Iterator it = z.At(span.begin); it.valid(); it.Next()) {
    double score = it.score();
    if (score >= max) break;
    double xy[2];
    geo::DecodeScore(score, xy);
    double distance = 0;
    if (geo::WithinShape(shape, xy[0], xy[1], &distance)) {
      out->push_back(GeoPoint{xy[0], xy[1], distance, score, std::string(it.member())});
    }
    if (!out->empty() && limit != 0 && out->size() >= limit) break;
  }
}

// Redis's membersOfAllNeighbors: the centre box, then its neighbours, skipping zeroed ones and
// one equal to the box scanned just before (huge radii make neighbours coincide).
void MembersOfAllNeighbors(const ZSetValue& z, const geo::SearchArea& area, const geo::Shape& shape,
                           size_t limit, std::vector<GeoPoint>* out) {
  const geo::Neighbors& n = area.neighbors;
  const geo::HashBits boxes[9] = {area.hash,    n.north,      n.south,      n.east,      n.west,
                                  n.north_east, n.north_west, n.south_east, n.south_west};
  size_t last_processed = 0;
  for (size_t i = 0; i < 9; ++i) {
    if (boxes[i].zero()) continue;
    // As in Redis, the comparison is skipped while the last box scanned is the centre.
    if (last_processed != 0 && boxes[i].bits == boxes[last_processed].bits &&
        boxes[i].step == boxes[last_processed].step) {
      continue;
    }
    if (!out->empty() && limit != 0 && out->size() >= limit) break;
    MembersOfBox(z, boxes[i], shape, limit, out);
    last_processed = i;
  }
}

// Reads the position of `member` into xy; false when it is not in the set.
bool PositionOf(const ZSetValue& z, std::string_view member, double* xy) {
  double score = 0;
  if (!z.Score(member, &score)) return false;
  geo::DecodeScore(score, xy);
  return true;
}

// The whole search on the source's shard: parsing (interleaved with member lookups, so errors
// come in Redis's order), the scan, sorting and COUNT.
SearchResult RunSearch(Db& db, ArgList args, int flags) {
  SearchResult res;
  const size_t src_index = (flags & kSearchStore) ? 2 : 1;
  bool wrong_type = false;
  const ZSetValue* z = ReadGeoSet(db, args[src_index], &wrong_type);
  if (wrong_type) {
    res.error = cmd::kWrongTypeErr;
    return res;
  }
  geo::Shape shape;
  size_t base_args = 0;
  if (flags & kFromCoords) {
    base_args = 6;
    shape.type = geo::Shape::Type::kCircle;
    res.error = ParseLongLat(args[2], args[3], shape.xy);
    if (res.error.empty()) res.error = ParseDistance(args[4], args[5], &shape);
    if (!res.error.empty()) return res;
  } else if (flags & kFromMember) {
    base_args = 5;
    if (z != nullptr) {
      shape.type = geo::Shape::Type::kCircle;
      if (!PositionOf(*z, args[2], shape.xy)) {
        res.error = kMemberErr;
        return res;
      }
      res.error = ParseDistance(args[3], args[4], &shape);
      if (!res.error.empty()) return res;
    }
  } else {
    base_args = 2;
    if (flags & kSearchStore) {
      base_args = 3;
      res.store = true;
      res.store_key = std::string(args[1]);
    }
  }

  bool frommember = false, fromloc = false, byradius = false, bybox = false, any = false;
  Sort sort = Sort::kNone;
  int64_t count = 0;
  const size_t remaining = args.size() > base_args ? args.size() - base_args : 0;
  for (size_t i = 0; i < remaining; ++i) {
    std::string_view arg = args[base_args + i];
    auto next = [&](size_t k) { return args[base_args + i + k]; };
    if (cmd::EqualsIgnoreCase(arg, "withdist")) {
      res.withdist = true;
    } else if (cmd::EqualsIgnoreCase(arg, "withhash")) {
      res.withhash = true;
    } else if (cmd::EqualsIgnoreCase(arg, "withcoord")) {
      res.withcoords = true;
    } else if (cmd::EqualsIgnoreCase(arg, "any")) {
      any = true;
    } else if (cmd::EqualsIgnoreCase(arg, "asc")) {
      sort = Sort::kAsc;
    } else if (cmd::EqualsIgnoreCase(arg, "desc")) {
      sort = Sort::kDesc;
    } else if (cmd::EqualsIgnoreCase(arg, "count") && i + 1 < remaining) {
      if (!cmd::ParseInt64(next(1), &count)) {
        res.error = cmd::kNotIntErr;
        return res;
      }
      if (count <= 0) {
        res.error = "ERR COUNT must be > 0";
        return res;
      }
      ++i;
    } else if ((cmd::EqualsIgnoreCase(arg, "store") || cmd::EqualsIgnoreCase(arg, "storedist")) &&
               i + 1 < remaining && !(flags & kNoStore) && !(flags & kSearch)) {
      res.store = true;
      res.store_key = std::string(next(1));
      res.storedist = cmd::EqualsIgnoreCase(arg, "storedist");
      ++i;
    } else if (cmd::EqualsIgnoreCase(arg, "storedist") && (flags & kSearch) &&
               (flags & kSearchStore)) {
      res.storedist = true;
    } else if (cmd::EqualsIgnoreCase(arg, "frommember") && i + 1 < remaining && (flags & kSearch) &&
               !fromloc) {
      // Without a source key the parsing goes on, so the reply fits the STORE flag.
      if (z != nullptr && !PositionOf(*z, next(1), shape.xy)) {
        res.error = kMemberErr;
        return res;
      }
      frommember = true;
      ++i;
    } else if (cmd::EqualsIgnoreCase(arg, "fromlonlat") && i + 2 < remaining && (flags & kSearch) &&
               !frommember) {
      res.error = ParseLongLat(next(1), next(2), shape.xy);
      if (!res.error.empty()) return res;
      fromloc = true;
      i += 2;
    } else if (cmd::EqualsIgnoreCase(arg, "byradius") && i + 2 < remaining && (flags & kSearch) &&
               !bybox) {
      res.error = ParseDistance(next(1), next(2), &shape);
      if (!res.error.empty()) return res;
      shape.type = geo::Shape::Type::kCircle;
      byradius = true;
      i += 2;
    } else if (cmd::EqualsIgnoreCase(arg, "bybox") && i + 3 < remaining && (flags & kSearch) &&
               !byradius) {
      res.error = ParseBox(next(1), next(2), next(3), &shape);
      if (!res.error.empty()) return res;
      shape.type = geo::Shape::Type::kBox;
      bybox = true;
      i += 3;
    } else {
      res.error = cmd::kSyntaxErr;
      return res;
    }
  }

  if (res.store && (res.withdist || res.withhash || res.withcoords)) {
    res.error = Cat("ERR ", (flags & kSearchStore) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS",
                    " is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
    return res;
  }
  if ((flags & kSearch) && !(frommember || fromloc)) {
    res.error = Cat("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ", args[0]);
    return res;
  }
  if ((flags & kSearch) && !(byradius || bybox)) {
    res.error = Cat("ERR exactly one of BYRADIUS and BYBOX can be specified for ", args[0]);
    return res;
  }
  if (any && count == 0) {
    res.error = "ERR the ANY argument requires COUNT argument";
    return res;
  }
  if (z == nullptr) return res;  // no points: an empty array, or an emptied destination

  // COUNT needs the nearest items, so it sorts unless ANY asked for whichever come first.
  if (count != 0 && sort == Sort::kNone && !any) sort = Sort::kAsc;

  geo::SearchArea area = geo::AreasForShape(shape);
  std::vector<GeoPoint>& pts = res.points;
  MembersOfAllNeighbors(*z, area, shape, any ? static_cast<size_t>(count) : 0, &pts);

  const size_t keep = count == 0 ? pts.size() : std::min(pts.size(), static_cast<size_t>(count));
  if (sort == Sort::kAsc) {
    SortPoints(
        &pts, [](const GeoPoint& a, const GeoPoint& b) { return a.dist < b.dist; }, keep);
  } else if (sort == Sort::kDesc) {
    SortPoints(
        &pts, [](const GeoPoint& a, const GeoPoint& b) { return a.dist > b.dist; }, keep);
  }
  if (count != 0 && pts.size() > static_cast<size_t>(count)) pts.resize(count);
  for (GeoPoint& p : pts) p.dist /= shape.conversion;
  return res;
}

void ReplyPoints(ReplyBuilder& reply, const SearchResult& res) {
  size_t options = (res.withdist ? 1 : 0) + (res.withhash ? 1 : 0) + (res.withcoords ? 1 : 0);
  reply.ArrayHeader(res.points.size());
  for (const GeoPoint& p : res.points) {
    if (options != 0) reply.ArrayHeader(options + 1);
    reply.Bulk(p.member);
    if (res.withdist) ReplyDistance(reply, p.dist);
    if (res.withhash) reply.Integer(static_cast<int64_t>(p.score));
    if (res.withcoords) {
      reply.ArrayHeader(2);
      ReplyCoordinate(reply, p.longitude);
      ReplyCoordinate(reply, p.latitude);
    }
  }
}

// The sorted set a storing search writes: scores are the geohashes, or the distances.
std::vector<ZEntry> StoredEntries(const SearchResult& res) {
  std::vector<ZEntry> entries;
  entries.reserve(res.points.size());
  absl::flat_hash_set<std::string> seen;
  for (const GeoPoint& p : res.points) {
    if (!seen.insert(p.member).second) continue;
    entries.push_back(ZEntry{p.member, res.storedist ? p.dist : p.score});
  }
  std::sort(entries.begin(), entries.end(), [](const ZEntry& a, const ZEntry& b) {
    return a.score < b.score || (a.score == b.score && a.member < b.member);
  });
  return entries;
}

// Key finder of GEORADIUS / GEORADIUSBYMEMBER. As Redis's key specs (what COMMAND GETKEYS
// reports): the source, then the key after the first STORE and the one after the first
// STOREDIST from the first option on. Plus the key the handler stores to (the last
// STORE/STOREDIST, as the handler parses) when those missed it, so routing always sees it.
template <size_t kFirstOption>
void GeoradiusKeys(ArgList args, std::vector<int>* positions) {
  if (args.size() < 2) return;
  positions->push_back(1);
  auto add = [&](int pos) {
    if (std::find(positions->begin(), positions->end(), pos) == positions->end()) {
      positions->push_back(pos);
    }
  };
  for (std::string_view keyword : {std::string_view("store"), std::string_view("storedist")}) {
    for (size_t i = kFirstOption; i + 1 < args.size(); ++i) {
      if (cmd::EqualsIgnoreCase(args[i], keyword)) {
        add(static_cast<int>(i + 1));
        break;
      }
    }
  }
  int stored = -1;
  for (size_t i = kFirstOption; i < args.size(); ++i) {
    if ((cmd::EqualsIgnoreCase(args[i], "store") || cmd::EqualsIgnoreCase(args[i], "storedist")) &&
        i + 1 < args.size()) {
      stored = static_cast<int>(i + 1);
      ++i;
    }
  }
  if (stored != -1) add(stored);
}

// Whether the destination a search parsed is one the router placed on this shard.
bool RoutedKey(ArgList args, int flags, std::string_view key) {
  if (flags & kSearchStore) return key == args[1];
  std::vector<int> positions;
  if (flags & kFromCoords) {
    GeoradiusKeys<6>(args, &positions);
  } else {
    GeoradiusKeys<5>(args, &positions);
  }
  for (int p : positions) {
    if (args[p] == key) return true;
  }
  return false;
}

// The keyspace notification of a storing search (georadiusGeneric).
constexpr const char* StoreEvent(int flags) {
  return (flags & (kSearch | kSearchStore)) ? "geosearchstore" : "georadiusstore";
}

template <int kFlags>
void SearchOnShard(ShardCommand& cmd) {
  SearchResult res = RunSearch(cmd.db, cmd.args, kFlags);
  if (!res.error.empty()) {
    cmd.reply.Error(res.error);
    return;
  }
  if (!res.store) {
    ReplyPoints(cmd.reply, res);
    return;
  }
  if (!RoutedKey(cmd.args, kFlags, res.store_key)) {
    // The routed keys always match what parsing accepts; never write another shard's key.
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  int64_t n = static_cast<int64_t>(res.points.size());
  zset::StoreResult(cmd.db, res.store_key, StoredEntries(res), StoreEvent(kFlags),
                    zset::LimitsOf(cmd.config));
  cmd.reply.Integer(n);
}

struct SearchState {
  std::vector<std::string> args;
  SearchResult result;
};

template <int kFlags>
void SearchOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<SearchState>();
  st->args.assign(cmd.args.begin(), cmd.args.end());
  const size_t src_index = (kFlags & kSearchStore) ? 2 : 1;
  cmd.RunOnShards(
      {cmd.ShardOf(cmd.args[src_index])},
      [st](ShardAccess& a) {
        std::vector<std::string_view> views(st->args.begin(), st->args.end());
        st->result = RunSearch(a.db, ArgList(views), kFlags);
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        SearchResult& res = st->result;
        if (!res.error.empty()) {
          reply.Error(res.error);
          return;
        }
        if (!res.store) {
          ReplyPoints(reply, res);
          return;
        }
        runner.RunOnShards(
            {ShardOfKey(res.store_key, runner.shard_count())},
            [st](ShardAccess& a) {
              zset::StoreResult(a.db, st->result.store_key, StoredEntries(st->result),
                                StoreEvent(kFlags), zset::LimitsOf(a.config));
            },
            [st](ReplyBuilder& reply, FanOutRunner&) {
              reply.Integer(static_cast<int64_t>(st->result.points.size()));
            });
      });
}

CommandSpec SearchSpec(std::string_view name, int arity, uint32_t flags, int first, int last,
                       std::string_view acl, std::string_view summary, std::string_view since,
                       ShardHandler on_shard, ClientHandler on_client, KeysHandler keys) {
  CommandSpec spec{};
  spec.name = name;
  spec.arity = arity;
  spec.flags = flags;
  spec.first_key = first;
  spec.last_key = last;
  spec.key_step = 1;
  spec.acl_categories = acl;
  spec.group = "geo";
  spec.summary = summary;
  spec.since = since;
  spec.on_shard = on_shard;
  spec.on_client = on_client;
  spec.get_keys = keys;
  return spec;
}

}  // namespace

void RegisterGeoCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kW = kCmdWrite | kCmdDenyOom;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr std::string_view kWriteSlow = "@write @geo @slow";
  constexpr std::string_view kReadSlow = "@read @geo @slow";
  constexpr int kRadius = kFromCoords;
  constexpr int kByMember = kFromMember;
  constexpr int kSearchOnly = kSearch;
  constexpr int kStore = kSearch | kSearchStore;
  table->push_back(
      SearchSpec("geoadd", -5, kW, 1, 1, kWriteSlow,
                 "Add one or more geospatial items in the geospatial index represented "
                 "using a sorted set",
                 "3.2.0", GeoaddCommand, nullptr, nullptr));
  table->push_back(SearchSpec("geodist", -4, kR, 1, 1, kReadSlow,
                              "Returns the distance between two members of a geospatial index",
                              "3.2.0", GeodistCommand, nullptr, nullptr));
  table->push_back(SearchSpec("geohash", -2, kR, 1, 1, kReadSlow,
                              "Returns members of a geospatial index as standard geohash strings",
                              "3.2.0", GeohashCommand, nullptr, nullptr));
  table->push_back(SearchSpec("geopos", -2, kR, 1, 1, kReadSlow,
                              "Returns longitude and latitude of members of a geospatial index",
                              "3.2.0", GeoposCommand, nullptr, nullptr));
  table->push_back(SearchSpec(
      "georadius", -6, kW | kCmdMovableKeys, 1, 1, kWriteSlow,
      "Query a sorted set representing a geospatial index to fetch members matching a given "
      "maximum distance from a point",
      "3.2.0", SearchOnShard<kRadius>, SearchOnClient<kRadius>, GeoradiusKeys<6>));
  table->push_back(SearchSpec("georadius_ro", -6, kR, 1, 1, kReadSlow,
                              "A read-only variant for GEORADIUS", "3.2.10",
                              SearchOnShard<kRadius | kNoStore>, nullptr, nullptr));
  table->push_back(SearchSpec(
      "georadiusbymember", -5, kW | kCmdMovableKeys, 1, 1, kWriteSlow,
      "Query a sorted set representing a geospatial index to fetch members matching a given "
      "maximum distance from a member",
      "3.2.0", SearchOnShard<kByMember>, SearchOnClient<kByMember>, GeoradiusKeys<5>));
  table->push_back(SearchSpec("georadiusbymember_ro", -5, kR, 1, 1, kReadSlow,
                              "A read-only variant for GEORADIUSBYMEMBER", "3.2.10",
                              SearchOnShard<kByMember | kNoStore>, nullptr, nullptr));
  table->push_back(SearchSpec(
      "geosearch", -7, kR, 1, 1, kReadSlow,
      "Query a sorted set representing a geospatial index to fetch members inside an area of a "
      "box or a circle.",
      "6.2.0", SearchOnShard<kSearchOnly>, nullptr, nullptr));
  table->push_back(SearchSpec(
      "geosearchstore", -8, kW, 1, 2, kWriteSlow,
      "Query a sorted set representing a geospatial index to fetch members inside an area of a "
      "box or a circle, and store the result in another key.",
      "6.2.0", SearchOnShard<kStore>, SearchOnClient<kStore>, nullptr));
}

}  // namespace shardis
