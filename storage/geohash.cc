// See geohash.h. The arithmetic follows redis-server 7.0's geohash algorithm step by step
// (same operations in the same order) so results agree to the last bit.
#include "storage/geohash.h"

#include <cmath>

namespace shardis::geo {
namespace {

constexpr double kDegToRad = M_PI / 180.0;

double DegRad(double deg) { return deg * kDegToRad; }
double RadDeg(double rad) { return rad / kDegToRad; }

// Spreads the 32 bits of v to the even positions of a 64-bit word.
uint64_t Spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

// Gathers the even bits of v into 32 bits.
uint32_t Gather(uint64_t v) {
  uint64_t x = v & 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(x);
}

// Latitude at the even bits, longitude at the odd bits.
uint64_t Interleave(uint32_t lat, uint32_t lon) { return Spread(lat) | (Spread(lon) << 1); }

// Moves a hash one box east (d > 0) or west (d < 0), wrapping around the antimeridian.
void MoveX(HashBits* h, int d) {
  if (d == 0) return;
  uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL;
  uint64_t y = h->bits & 0x5555555555555555ULL;
  uint64_t zz = 0x5555555555555555ULL >> (64 - h->step * 2);
  if (d > 0) {
    x = x + (zz + 1);
  } else {
    x = x | zz;
    x = x - (zz + 1);
  }
  x &= (0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2));
  h->bits = x | y;
}

// Moves a hash one box north (d > 0) or south (d < 0), wrapping at the poles.
void MoveY(HashBits* h, int d) {
  if (d == 0) return;
  uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL;
  uint64_t y = h->bits & 0x5555555555555555ULL;
  uint64_t zz = 0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2);
  if (d > 0) {
    y = y + (zz + 1);
  } else {
    y = y | zz;
    y = y - (zz + 1);
  }
  y &= (0x5555555555555555ULL >> (64 - h->step * 2));
  h->bits = x | y;
}

constexpr Range kLongRange{kLongMin, kLongMax};
constexpr Range kLatRange{kLatMin, kLatMax};

// Scores written by GEOADD are integers in [0, 2^52], but any sorted set can be queried: other
// scores convert as redis-server's (uint64_t) cast does on x86-64 (truncation; out of range and
// NaN give the "integer indefinite" 2^63; at and above 2^63, 2^63 is subtracted first and added
// back), so every score decodes to the same point as there.
uint64_t ScoreBits(double score) {
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr uint64_t kIndefinite = 0x8000000000000000ULL;
  auto to_int64 = [](double v) -> uint64_t {
    if (!(v > -kTwo63 - 1024.0 && v < kTwo63)) return kIndefinite;
    return static_cast<uint64_t>(static_cast<int64_t>(v));
  };
  if (score < kTwo63) return to_int64(score);
  return to_int64(score - kTwo63) ^ kIndefinite;
}

bool RangeZero(const Range& r) { return r.min == 0 && r.max == 0; }

// The longitude/latitude bounds of a shape (meters turned into degrees at its latitude).
void BoundingBox(const Shape& shape, double* bounds) {
  double longitude = shape.xy[0];
  double latitude = shape.xy[1];
  bool circle = shape.type == Shape::Type::kCircle;
  double height = shape.conversion * (circle ? shape.radius : shape.height / 2);
  double width = shape.conversion * (circle ? shape.radius : shape.width / 2);
  const double lat_delta = RadDeg(height / kEarthRadiusMeters);
  const double long_delta_top =
      RadDeg(width / kEarthRadiusMeters / std::cos(DegRad(latitude + lat_delta)));
  const double long_delta_bottom =
      RadDeg(width / kEarthRadiusMeters / std::cos(DegRad(latitude - lat_delta)));
  // The wider edge is the one nearer the pole: the top one north of the equator.
  bool southern = latitude < 0;
  bounds[0] = southern ? longitude - long_delta_bottom : longitude - long_delta_top;
  bounds[2] = southern ? longitude + long_delta_bottom : longitude + long_delta_top;
  bounds[1] = latitude - lat_delta;
  bounds[3] = latitude + lat_delta;
}

}  // namespace

bool ValidLongLat(double longitude, double latitude) {
  return !(longitude < kLongMin || longitude > kLongMax || latitude < kLatMin ||
           latitude > kLatMax);
}

bool Encode(const Range& long_range, const Range& lat_range, double longitude, double latitude,
            int step, HashBits* hash) {
  if (step > 32 || step == 0 || RangeZero(lat_range) || RangeZero(long_range)) return false;
  if (longitude > kLongMax || longitude < kLongMin || latitude > kLatMax || latitude < kLatMin) {
    return false;
  }
  hash->bits = 0;
  hash->step = static_cast<uint8_t>(step);
  if (latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min ||
      longitude > long_range.max) {
    return false;
  }
  double lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
  double long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
  lat_offset *= static_cast<double>(1ULL << step);
  long_offset *= static_cast<double>(1ULL << step);
  hash->bits = Interleave(static_cast<uint32_t>(lat_offset), static_cast<uint32_t>(long_offset));
  return true;
}

bool EncodeWGS84(double longitude, double latitude, int step, HashBits* hash) {
  return Encode(kLongRange, kLatRange, longitude, latitude, step, hash);
}

bool Decode(const Range& long_range, const Range& lat_range, HashBits hash, Area* area) {
  if (hash.zero() || RangeZero(lat_range) || RangeZero(long_range)) return false;
  area->hash = hash;
  double lat_scale = lat_range.max - lat_range.min;
  double long_scale = long_range.max - long_range.min;
  uint32_t ilato = Gather(hash.bits);
  uint32_t ilono = Gather(hash.bits >> 1);
  double div = static_cast<double>(1ULL << hash.step);
  area->latitude.min = lat_range.min + (ilato * 1.0 / div) * lat_scale;
  area->latitude.max = lat_range.min + ((uint32_t)(ilato + 1) * 1.0 / div) * lat_scale;
  area->longitude.min = long_range.min + (ilono * 1.0 / div) * long_scale;
  area->longitude.max = long_range.min + ((uint32_t)(ilono + 1) * 1.0 / div) * long_scale;
  return true;
}

void DecodeScore(double score, double* xy) {
  HashBits hash;
  hash.bits = ScoreBits(score);
  hash.step = kStepMax;
  Area area;
  Decode(kLongRange, kLatRange, hash, &area);
  xy[0] = (area.longitude.min + area.longitude.max) / 2;
  if (xy[0] > kLongMax) xy[0] = kLongMax;
  if (xy[0] < kLongMin) xy[0] = kLongMin;
  xy[1] = (area.latitude.min + area.latitude.max) / 2;
  if (xy[1] > kLatMax) xy[1] = kLatMax;
  if (xy[1] < kLatMin) xy[1] = kLatMin;
}

void StandardGeohash(double longitude, double latitude, char out[11]) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  HashBits hash;
  Encode(Range{-180, 180}, Range{-90, 90}, longitude, latitude, kStepMax, &hash);
  for (int i = 0; i < 11; ++i) {
    // 52 bits make 10 characters and 2 bits; the 11th is printed as if those were zero.
    int idx = i == 10 ? 0 : static_cast<int>((hash.bits >> (52 - (i + 1) * 5)) & 0x1f);
    out[i] = kAlphabet[idx];
  }
}

void GetNeighbors(HashBits hash, Neighbors* n) {
  n->east = n->west = n->north = n->south = hash;
  n->south_east = n->south_west = n->north_east = n->north_west = hash;
  MoveX(&n->east, 1);
  MoveX(&n->west, -1);
  MoveY(&n->south, -1);
  MoveY(&n->north, 1);
  MoveX(&n->north_west, -1);
  MoveY(&n->north_west, 1);
  MoveX(&n->south_west, -1);
  MoveY(&n->south_west, -1);
  MoveX(&n->north_east, 1);
  MoveY(&n->north_east, 1);
  MoveX(&n->south_east, 1);
  MoveY(&n->south_east, -1);
}

double LatDistance(double lat1, double lat2) {
  return kEarthRadiusMeters * std::fabs(DegRad(lat2) - DegRad(lat1));
}

double Distance(double lon1, double lat1, double lon2, double lat2) {
  double lon1r = DegRad(lon1);
  double lon2r = DegRad(lon2);
  double v = std::sin((lon2r - lon1r) / 2);
  // Same longitude: the distance along the meridian, without the trigonometry.
  if (v == 0.0) return LatDistance(lat1, lat2);
  double lat1r = DegRad(lat1);
  double lat2r = DegRad(lat2);
  double u = std::sin((lat2r - lat1r) / 2);
  double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * kEarthRadiusMeters * std::asin(std::sqrt(a));
}

bool WithinShape(const Shape& shape, double lon, double lat, double* distance) {
  if (shape.type == Shape::Type::kCircle) {
    *distance = Distance(shape.xy[0], shape.xy[1], lon, lat);
    return *distance <= shape.radius * shape.conversion;
  }
  double width_m = shape.width * shape.conversion;
  double height_m = shape.height * shape.conversion;
  // The latitude test is the cheaper one, so it goes first.
  if (LatDistance(lat, shape.xy[1]) > height_m / 2) return false;
  if (Distance(lon, lat, shape.xy[0], lat) > width_m / 2) return false;
  *distance = Distance(shape.xy[0], shape.xy[1], lon, lat);
  return true;
}

int EstimateStepsByRadius(double range_meters, double lat) {
  if (range_meters == 0) return 26;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    step++;
  }
  step -= 2;  // so that the range fits in most cases
  // Boxes narrow towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

SearchArea AreasForShape(const Shape& shape) {
  double bounds[4];
  BoundingBox(shape, bounds);
  const double min_lon = bounds[0], min_lat = bounds[1], max_lon = bounds[2], max_lat = bounds[3];
  const double longitude = shape.xy[0];
  const double latitude = shape.xy[1];
  // A box is covered by the circle through its corners.
  double radius_meters = shape.type == Shape::Type::kCircle
                             ? shape.radius
                             : std::sqrt((shape.width / 2) * (shape.width / 2) +
                                         (shape.height / 2) * (shape.height / 2));
  radius_meters *= shape.conversion;
  int steps = EstimateStepsByRadius(radius_meters, latitude);

  SearchArea out;
  Encode(kLongRange, kLatRange, longitude, latitude, steps, &out.hash);
  GetNeighbors(out.hash, &out.neighbors);
  Decode(kLongRange, kLatRange, out.hash, &out.area);

  // Near a box's edge the estimated step may leave part of the shape outside the 3x3 boxes:
  // then use boxes twice as large.
  bool decrease_step = false;
  {
    Area north, south, east, west;
    Decode(kLongRange, kLatRange, out.neighbors.north, &north);
    Decode(kLongRange, kLatRange, out.neighbors.south, &south);
    Decode(kLongRange, kLatRange, out.neighbors.east, &east);
    Decode(kLongRange, kLatRange, out.neighbors.west, &west);
    if (north.latitude.max < max_lat) decrease_step = true;
    if (south.latitude.min > min_lat) decrease_step = true;
    if (east.longitude.max < max_lon) decrease_step = true;
    if (west.longitude.min > min_lon) decrease_step = true;
  }
  if (steps > 1 && decrease_step) {
    steps--;
    Encode(kLongRange, kLatRange, longitude, latitude, steps, &out.hash);
    GetNeighbors(out.hash, &out.neighbors);
    Decode(kLongRange, kLatRange, out.hash, &out.area);
  }

  // Drop the neighbours the shape cannot reach.
  if (steps >= 2) {
    Neighbors& n = out.neighbors;
    if (out.area.latitude.min < min_lat) n.south = n.south_west = n.south_east = HashBits{};
    if (out.area.latitude.max > max_lat) n.north = n.north_east = n.north_west = HashBits{};
    if (out.area.longitude.min < min_lon) n.west = n.south_west = n.north_west = HashBits{};
    if (out.area.longitude.max > max_lon) n.east = n.south_east = n.north_east = HashBits{};
  }
  return out;
}

}  // namespace shardis::geo
