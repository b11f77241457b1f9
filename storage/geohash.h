// Geohash: the 52-bit interleaved geohash Redis's GEO commands keep as sorted-set scores, and the
// geometry around it (neighbour boxes, the area a search covers, haversine distances).
//
// Longitude bits sit at the odd positions and latitude bits at the even ones; a hash of `step`
// has 2*step significant bits. Scores are 26-step hashes over longitude [-180, 180] and latitude
// [-85.05112878, 85.05112878] (Web Mercator's limits), aligned to 52 bits. Written from the
// algorithm descriptions so the numbers (scores, decoded coordinates, distances, which boxes a
// search scans and in which order) agree with redis-server 7.0 bit for bit. Pure functions: safe
// on any thread; knows nothing of commands or replies.
#pragma once

#include <cstdint>

namespace shardis::geo {

inline constexpr double kLongMin = -180;
inline constexpr double kLongMax = 180;
inline constexpr double kLatMin = -85.05112878;
inline constexpr double kLatMax = 85.05112878;
inline constexpr int kStepMax = 26;  // 52 bits
inline constexpr double kEarthRadiusMeters = 6372797.560856;
inline constexpr double kMercatorMax = 20037726.37;

struct Range {
  double min = 0;
  double max = 0;
};

struct HashBits {
  uint64_t bits = 0;
  uint8_t step = 0;
  bool zero() const { return bits == 0 && step == 0; }
};

struct Area {
  HashBits hash;
  Range longitude;
  Range latitude;
};

struct Neighbors {
  HashBits north, east, west, south, north_east, south_east, north_west, south_west;
};

// Whether (longitude, latitude) may be indexed (GEOADD's check).
bool ValidLongLat(double longitude, double latitude);

// Encodes a point within the given ranges at `step` (1..32). False when outside the ranges or
// the WGS84/Mercator limits (then *hash is unusable).
bool Encode(const Range& long_range, const Range& lat_range, double longitude, double latitude,
            int step, HashBits* hash);
// With the standard GEO ranges.
bool EncodeWGS84(double longitude, double latitude, int step, HashBits* hash);
// The box a hash designates.
bool Decode(const Range& long_range, const Range& lat_range, HashBits hash, Area* area);
// The 52-bit score of a hash.
inline uint64_t Align52(HashBits hash) { return hash.bits << (52 - hash.step * 2); }
// The centre of a score's 26-step box, clamped to the GEO limits: xy[0] longitude, xy[1]
// latitude.
void DecodeScore(double score, double* xy);
// The 11-character standard geohash (latitude over [-90, 90]) of a point, as GEOHASH prints it.
void StandardGeohash(double longitude, double latitude, char out[11]);

void GetNeighbors(HashBits hash, Neighbors* n);

// Distances in meters.
double LatDistance(double lat1, double lat2);
double Distance(double lon1, double lat1, double lon2, double lat2);

// A search shape: a circle of `radius`, or a `width` x `height` box, around (lon, lat); sizes in
// the unit whose meters are `conversion`.
struct Shape {
  enum class Type : uint8_t { kCircle, kBox };
  Type type = Type::kCircle;
  double xy[2] = {0, 0};
  double conversion = 1;
  double radius = 0;
  double width = 0;
  double height = 0;
};

// Whether a point lies in the shape; *distance receives its distance (meters) from the centre.
bool WithinShape(const Shape& shape, double lon, double lat, double* distance);

// The boxes to scan for a shape: the centre box and its eight neighbours, some zeroed when the
// shape cannot reach them. Scanned in this order: centre, N, S, E, W, NE, NW, SE, SW.
struct SearchArea {
  HashBits hash;
  Neighbors neighbors;
  Area area;
};
SearchArea AreasForShape(const Shape& shape);

// The step whose boxes are about `range_meters` wide at `lat`.
int EstimateStepsByRadius(double range_meters, double lat);

}  // namespace shardis::geo
