#include "storage/value.h"

#include <atomic>

namespace shardis {
namespace {

std::atomic<LazyFreeHook> g_lazy_free_hook{nullptr};

}  // namespace

void SetLazyFreeHook(LazyFreeHook hook) { g_lazy_free_hook.store(hook); }

void DisposeCollection(std::unique_ptr<Collection> c) {
  if (c->ElementCount() >= kLazyFreeThreshold) {
    if (LazyFreeHook hook = g_lazy_free_hook.load(std::memory_order_relaxed)) {
      hook(std::move(c));
      return;
    }
  }
  c.reset();
}

bool IsCanonicalInt(std::string_view s, int64_t* value) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool negative = s[0] == '-';
  if (negative) {
    if (s.size() == 1) return false;
    i = 1;
  }
  if (s[i] == '0') {
    if (s.size() != 1) return false;  // "0" only; "-0" and "01" are not canonical
    if (value) *value = 0;
    return true;
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t digit = s[i] - '0';
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (negative ? v > static_cast<uint64_t>(INT64_MAX) + 1 : v > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  }
  if (value) *value = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

Value Value::FromString(std::string s) {
  StringEncoding enc = StringEncoding::kRaw;
  if (s.size() <= 20 && IsCanonicalInt(s)) {
    enc = StringEncoding::kInt;
  } else if (s.size() <= 44) {
    enc = StringEncoding::kEmbstr;
  }
  return Value{ValueType::kString, enc, std::move(s), {}};
}

const char* TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kList:
      return "list";
    case ValueType::kSet:
      return "set";
    case ValueType::kZSet:
      return "zset";
    case ValueType::kHash:
      return "hash";
    case ValueType::kStream:
      return "stream";
  }
  return "none";
}

const char* EncodingName(const Value& value) {
  if (value.type != ValueType::kString) {
    return value.coll ? value.coll.get()->EncodingName() : "unknown";
  }
  switch (value.encoding) {
    case StringEncoding::kInt:
      return "int";
    case StringEncoding::kEmbstr:
      return "embstr";
    case StringEncoding::kRaw:
      return "raw";
  }
  return "raw";
}

}  // namespace shardis
