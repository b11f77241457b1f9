// Value: what a key maps to: a string (inline in the Value) or a collection (list, set, sorted
// set, hash, stream), each type in its own file as a Collection subclass. Values live inside
// keyspace entries and are touched only by the owning shard's thread. Copying a Value deep-copies
// its collection (COPY needs that); moving it moves the pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace shardis {

enum class ValueType : uint8_t { kString = 0, kList, kSet, kZSet, kHash, kStream };

// Base of the collection types. Each subclass owns its encodings and reports Redis's name for
// the current one (OBJECT ENCODING).
class Collection {
 public:
  virtual ~Collection() = default;
  virtual std::unique_ptr<Collection> Clone() const = 0;
  virtual const char* EncodingName() const = 0;
  // Elements (or fields, members, entries): decides whether freeing it is deferred.
  virtual size_t ElementCount() const { return 0; }
};

// Lazy freeing: a collection with at least kLazyFreeThreshold elements is not destroyed on the
// shard's thread (which could stall its loop for a long time) but handed to this hook, which the
// server points at its lazy-free thread. Null (tests, tools): destroyed in place.
inline constexpr size_t kLazyFreeThreshold = 64;
using LazyFreeHook = void (*)(std::unique_ptr<Collection>);
void SetLazyFreeHook(LazyFreeHook hook);
void DisposeCollection(std::unique_ptr<Collection> c);

// An owning pointer to a Collection that deep-copies when copied and frees big collections
// lazily (see above) however the value dies: DEL, overwrite, FLUSHDB, expiry.
class CollectionPtr {
 public:
  CollectionPtr() = default;
  explicit CollectionPtr(std::unique_ptr<Collection> p) : p_(std::move(p)) {}
  CollectionPtr(const CollectionPtr& other) : p_(other.p_ ? other.p_->Clone() : nullptr) {}
  CollectionPtr& operator=(const CollectionPtr& other) {
    if (this != &other) Reset(other.p_ ? other.p_->Clone() : nullptr);
    return *this;
  }
  CollectionPtr(CollectionPtr&& other) noexcept = default;
  CollectionPtr& operator=(CollectionPtr&& other) noexcept {
    if (this != &other) Reset(std::move(other.p_));
    return *this;
  }
  ~CollectionPtr() { Reset(nullptr); }

  Collection* get() const { return p_.get(); }
  explicit operator bool() const { return p_ != nullptr; }
  // Hands the collection over (no lazy free: the caller now owns it).
  std::unique_ptr<Collection> Release() { return std::move(p_); }

 private:
  void Reset(std::unique_ptr<Collection> next) {
    std::unique_ptr<Collection> old = std::move(p_);
    p_ = std::move(next);
    if (old) DisposeCollection(std::move(old));
  }

  std::unique_ptr<Collection> p_;
};

// How redis-server would encode the same string (OBJECT ENCODING reports it): "int" for a
// canonical 64-bit integer, "embstr" for short strings made whole, "raw" for longer ones and for
// strings modified in place (APPEND, SETRANGE, SETBIT...).
enum class StringEncoding : uint8_t { kInt, kEmbstr, kRaw };

struct Value {
  ValueType type = ValueType::kString;
  StringEncoding encoding = StringEncoding::kEmbstr;  // strings only
  std::string str;                                    // strings only
  CollectionPtr coll;                                 // every other type

  // The collection as its concrete type; the caller has checked `type`.
  template <typename T>
  T* As() const {
    return static_cast<T*>(coll.get());
  }
  // A collection value of the given type.
  static Value OfCollection(ValueType type, std::unique_ptr<Collection> c) {
    Value v;
    v.type = type;
    v.coll = CollectionPtr(std::move(c));
    return v;
  }

  // A string value encoded as Redis's SET would (int / embstr / raw).
  static Value FromString(std::string s);
  // A string value encoded as Redis encodes a value modified in place.
  static Value RawString(std::string s) {
    return Value{ValueType::kString, StringEncoding::kRaw, std::move(s), {}};
  }
};

// True when `s` is how Redis prints an int64 (no sign '+', no leading zeros, no spaces).
bool IsCanonicalInt(std::string_view s, int64_t* value = nullptr);

const char* TypeName(ValueType type);
const char* EncodingName(const Value& value);

}  // namespace shardis
