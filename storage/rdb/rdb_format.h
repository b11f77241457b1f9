// The building blocks of Redis's RDB format (version 10, as redis-server 7.0 writes it): type
// and opcode numbers, length and string encodings (integer-encoded and LZF-compressed strings),
// doubles, and the packed blobs values are stored as (listpack, intset; ziplist and zipmap read
// only, for files from older servers). Written from the format's description; pure code over
// byte buffers, any thread. Readers never trust their input: every read is bounds-checked and a
// failure leaves an error text naming the offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shardis::rdb {

inline constexpr int kRdbVersion = 10;

// Object types (the byte before a key).
enum RdbType : uint8_t {
  kTypeString = 0,
  kTypeList = 1,
  kTypeSet = 2,
  kTypeZSet = 3,
  kTypeHash = 4,
  kTypeZSet2 = 5,
  kTypeModule = 6,
  kTypeModule2 = 7,
  kTypeHashZipmap = 9,
  kTypeListZiplist = 10,
  kTypeSetIntset = 11,
  kTypeZSetZiplist = 12,
  kTypeHashZiplist = 13,
  kTypeListQuicklist = 14,
  kTypeStreamListpacks = 15,
  kTypeHashListpack = 16,
  kTypeZSetListpack = 17,
  kTypeListQuicklist2 = 18,
  kTypeStreamListpacks2 = 19,
  kTypeSetListpack = 20,
  kTypeStreamListpacks3 = 21,
};

// Opcodes (bytes that take a type's place).
enum RdbOpcode : uint8_t {
  kOpFunction2 = 245,
  kOpFunctionPreGa = 246,
  kOpModuleAux = 247,
  kOpIdle = 248,
  kOpFreq = 249,
  kOpAux = 250,
  kOpResizeDb = 251,
  kOpExpireTimeMs = 252,
  kOpExpireTime = 253,
  kOpSelectDb = 254,
  kOpEof = 255,
};

// Quicklist 2 node containers.
inline constexpr uint64_t kQuicklistPlain = 1;
inline constexpr uint64_t kQuicklistPacked = 2;

// Appends RDB encodings to a string.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  std::string* out() { return out_; }

  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void Raw(std::string_view bytes) { out_->append(bytes); }
  // Length encoding: 6 bits, 14 bits, 32 or 64 bits big-endian.
  void Len(uint64_t len);
  // A string as rdbSaveRawString: integer-encoded when short and canonical (fits 32 bits),
  // LZF-compressed when `compress`, longer than 20 bytes and it saves at least 4 bytes, else raw.
  void String(std::string_view s, bool compress);
  // A string stored as is (no integer / LZF attempt), e.g. a stream node key.
  void RawString(std::string_view s);
  void BinaryDouble(double v);  // 8 bytes little-endian (ZSET_2)
  void MillisLE(int64_t v);     // 8 bytes little-endian (expire times, stream PEL times)
  void U64LE(uint64_t v) { MillisLE(static_cast<int64_t>(v)); }

 private:
  std::string* out_;
};

// Reads RDB encodings from a buffer. `base` is the buffer's offset in its file, so error texts
// name file offsets.
class Reader {
 public:
  explicit Reader(std::string_view data, uint64_t base = 0) : data_(data), base_(base) {}

  size_t pos() const { return pos_; }
  uint64_t file_offset() const { return base_ + pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Records the first failure ("<what> at offset N") and returns false.
  bool Fail(std::string_view what);

  bool U8(uint8_t* v);
  bool Raw(size_t n, std::string_view* out);
  // A length; *encoded tells a special (integer / LZF) string encoding, whose kind is *len.
  bool Len(uint64_t* len, bool* encoded = nullptr);
  bool String(std::string* out);
  bool BinaryDouble(double* v);
  bool StringDouble(double* v);  // ZSET v1: length byte, 253 nan, 254 +inf, 255 -inf, or text
  bool MillisLE(int64_t* v);
  bool U32LE(uint32_t* v);

 private:
  std::string_view data_;
  uint64_t base_;
  size_t pos_ = 0;
  std::string error_;
};

// Builds a listpack (Redis 7's packed list: total bytes, element count, entries each followed by
// its back-length, 0xFF). Canonical integer strings are stored as integers, as Redis's lpAppend.
class ListpackBuilder {
 public:
  ListpackBuilder();
  void Append(std::string_view s);
  void AppendInt(int64_t v);
  size_t count() const { return count_; }
  size_t bytes() const { return buf_.size() + 1; }  // with the terminator
  // The finished listpack; the builder is reset.
  std::string Finish();

 private:
  void Backlen(size_t entry_len);
  std::string buf_;
  size_t count_ = 0;
};

// Appends every element of a listpack to *out as strings (integers in decimal). False (with
// *error) when malformed.
bool ListpackElements(std::string_view lp, std::vector<std::string>* out, std::string* error);
// Same for a ziplist (Redis < 7: list, hash and zset blobs, quicklist v1 nodes).
bool ZiplistElements(std::string_view zl, std::vector<std::string>* out, std::string* error);
// Same for a zipmap (Redis < 2.6 hashes): field, value, field, value...
bool ZipmapElements(std::string_view zm, std::vector<std::string>* out, std::string* error);
// The members of an intset blob (uint32 width, uint32 count, little-endian values).
bool IntsetElements(std::string_view is, std::vector<int64_t>* out, std::string* error);
// An intset blob holding `values` (sorted, distinct) at `width` bytes each (2, 4 or 8).
std::string BuildIntset(const std::vector<int64_t>& values, int width);

// Redis's string2ll: true when `s` is a canonical int64 (what integer encodings accept).
bool ParseCanonicalInt(std::string_view s, int64_t* v);
// "%.17g" as Redis prints a double for listpack scores and v1 zsets; integers without exponent.
std::string FormatScore(double v);

}  // namespace shardis::rdb
