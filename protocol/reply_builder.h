// ReplyBuilder: encodes replies in RESP2 or RESP3 into a caller-owned byte string.
//
// Owned by whoever produces a reply (a command running on a shard, a connection answering an
// error). It holds no state but the target buffer and the protocol version, so it is cheap to
// make one per batch. Every method appends exactly one RESP value (or an aggregate header whose
// elements the caller appends next). RESP3-only types degrade to their RESP2 equivalents the way
// redis-server 7.0 does (maps become flat arrays, doubles become bulk strings, nulls become $-1
// or *-1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shardis {

enum class RespVersion : uint8_t { kResp2 = 2, kResp3 = 3 };

class ReplyBuilder {
 public:
  ReplyBuilder(std::string* out, RespVersion version) : out_(out), version_(version) {}

  RespVersion version() const { return version_; }
  bool resp3() const { return version_ == RespVersion::kResp3; }
  std::string* buffer() { return out_; }

  void Ok() { out_->append("+OK\r\n"); }
  void SimpleString(std::string_view s);
  // `message` is the error text without the leading '-', e.g. "ERR syntax error". Any CR or LF in
  // it is replaced by a space so the reply stays one line.
  void Error(std::string_view message);
  void Integer(int64_t value);
  void Bulk(std::string_view s);
  // The null bulk string: "$-1" in RESP2, "_" in RESP3.
  void Null();
  // The null array: "*-1" in RESP2, "_" in RESP3.
  void NullArray();
  void ArrayHeader(size_t n);
  // A map of n key/value pairs: "%n" in RESP3, a flat array of 2n elements in RESP2.
  void MapHeader(size_t n);
  // A set: "~n" in RESP3, an array in RESP2.
  void SetHeader(size_t n);
  // A push frame: ">n" in RESP3, an array in RESP2 (as pub/sub messages are).
  void PushHeader(size_t n);
  // A double, formatted as redis-server 7.0 does ("%.17g", "inf", "-inf").
  void Double(double value);
  // RESP3 boolean, RESP2 integer 1/0.
  void Bool(bool value);
  // RESP3 verbatim string ("=len\r\ntxt:..."), RESP2 bulk string.
  void Verbatim(std::string_view text, std::string_view format = "txt");
  void BulkArray(const std::string_view* items, size_t n);
  // Appends pre-encoded RESP bytes.
  void Raw(std::string_view bytes) { out_->append(bytes); }

 private:
  void Header(char type, int64_t n);

  std::string* out_;
  RespVersion version_;
};

// Formats a double the way Redis prints it in replies ("%.17g"; "inf"/"-inf"; a NaN prints as
// glibc prints it, "nan" or "-nan", as in Redis).
std::string FormatDouble(double value);

}  // namespace shardis
