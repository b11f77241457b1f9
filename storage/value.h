// Value: what a key maps to. Strings only for now; the aggregate types come with their own
// files. Values live inside keyspace entries and are touched only by the owning shard's thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shardis {

enum class ValueType : uint8_t { kString = 0 };

// How redis-server would encode the same string (OBJECT ENCODING reports it): "int" for a
// canonical 64-bit integer, "embstr" for short strings made whole, "raw" for longer ones and for
// strings modified in place (APPEND, SETRANGE, SETBIT...).
enum class StringEncoding : uint8_t { kInt, kEmbstr, kRaw };

struct Value {
  ValueType type = ValueType::kString;
  StringEncoding encoding = StringEncoding::kEmbstr;
  std::string str;

  // A string value encoded as Redis's SET would (int / embstr / raw).
  static Value FromString(std::string s);
  // A string value encoded as Redis encodes a value modified in place.
  static Value RawString(std::string s) {
    return Value{ValueType::kString, StringEncoding::kRaw, std::move(s)};
  }
};

// True when `s` is how Redis prints an int64 (no sign '+', no leading zeros, no spaces).
bool IsCanonicalInt(std::string_view s, int64_t* value = nullptr);

const char* TypeName(ValueType type);
const char* EncodingName(const Value& value);

}  // namespace shardis
