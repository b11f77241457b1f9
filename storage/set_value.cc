// SetValue and its two encodings (see set_value.h). Single-threaded: whoever owns a SetValue
// (a shard's keyspace entry, or a command's temporary) is the only one touching it.
#include "storage/set_value.h"

#include <charconv>
#include <cstring>
#include <utility>

#include "absl/hash/hash.h"

namespace shardis {
namespace {

// Redis's _intsetValueEncoding: the narrowest width holding v.
uint8_t WidthFor(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) return 8;
  if (v < INT16_MIN || v > INT16_MAX) return 4;
  return 2;
}

uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  return __builtin_bswap64(v);
}

constexpr size_t kMinBuckets = 4;  // Redis's DICT_HT_INITIAL_SIZE

size_t BucketsFor(size_t n) {
  size_t b = kMinBuckets;
  while (b < n) b <<= 1;
  return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// IntSet

int64_t IntSet::At(size_t i) const {
  const uint8_t* p = bytes_.data() + i * width_;
  switch (width_) {
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

void IntSet::Put(size_t i, int64_t v) {
  uint8_t* p = bytes_.data() + i * width_;
  switch (width_) {
    case 2: {
      int16_t x = static_cast<int16_t>(v);
      std::memcpy(p, &x, 2);
      break;
    }
    case 4: {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(p, &x, 4);
      break;
    }
    default:
      std::memcpy(p, &v, 8);
      break;
  }
}

bool IntSet::Search(int64_t v, size_t* pos) const {
  if (size_ == 0) {
    *pos = 0;
    return false;
  }
  // Quick answers at both ends (the common append case), as Redis's intsetSearch.
  if (v > At(size_ - 1)) {
    *pos = size_;
    return false;
  }
  if (v < At(0)) {
    *pos = 0;
    return false;
  }
  size_t lo = 0;
  size_t hi = size_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int64_t cur = At(mid);
    if (cur == v) {
      *pos = mid;
      return true;
    }
    if (cur < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *pos = lo;
  return false;
}

bool IntSet::Contains(int64_t v) const {
  if (WidthFor(v) > width_) return false;
  size_t pos = 0;
  return Search(v, &pos);
}

void IntSet::Widen(uint8_t width) {
  std::vector<uint8_t> old = std::move(bytes_);
  uint8_t old_width = width_;
  bytes_.assign(size_ * width, 0);
  width_ = width;
  for (size_t i = 0; i < size_; ++i) {
    const uint8_t* p = old.data() + i * old_width;
    int64_t v;
    if (old_width == 2) {
      int16_t x;
      std::memcpy(&x, p, 2);
      v = x;
    } else if (old_width == 4) {
      int32_t x;
      std::memcpy(&x, p, 4);
      v = x;
    } else {
      std::memcpy(&v, p, 8);
    }
    Put(i, v);
  }
}

bool IntSet::Insert(int64_t v) {
  size_t pos = 0;
  uint8_t need = WidthFor(v);
  if (need > width_) {
    // A value that needs a wider type lies outside the current range: first or last.
    Widen(need);
    pos = v < 0 ? 0 : size_;
  } else if (Search(v, &pos)) {
    return false;
  }
  bytes_.resize((size_ + 1) * width_);
  uint8_t* base = bytes_.data();
  std::memmove(base + (pos + 1) * width_, base + pos * width_, (size_ - pos) * width_);
  ++size_;
  Put(pos, v);
  return true;
}

void IntSet::EraseAt(size_t i) {
  uint8_t* base = bytes_.data();
  std::memmove(base + i * width_, base + (i + 1) * width_, (size_ - i - 1) * width_);
  --size_;
  bytes_.resize(size_ * width_);
}

bool IntSet::Erase(int64_t v) {
  if (WidthFor(v) > width_) return false;
  size_t pos = 0;
  if (!Search(v, &pos)) return false;
  EraseAt(pos);
  return true;
}

// ---------------------------------------------------------------------------------------------
// StringHashSet

uint64_t StringHashSet::Hash(std::string_view s) { return absl::Hash<std::string_view>{}(s); }

uint64_t StringHashSet::NextCursor(uint64_t cursor, uint64_t mask) {
  // Increment the reversed cursor over the unmasked bits (Redis's dictScan).
  cursor |= ~mask;
  cursor = ReverseBits(cursor);
  ++cursor;
  return ReverseBits(cursor);
}

uint32_t StringHashSet::FindIndex(std::string_view s) const {
  if (buckets_.empty()) return kNil;
  uint64_t h = Hash(s);
  for (uint32_t n = buckets_[h & (buckets_.size() - 1)]; n != kNil; n = nodes_[n].next) {
    if (nodes_[n].hash == h && nodes_[n].member == s) return n;
  }
  return kNil;
}

void StringHashSet::Rebuild(size_t bucket_count) {
  buckets_.assign(bucket_count, kNil);
  uint64_t mask = bucket_count - 1;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    uint32_t& head = buckets_[nodes_[i].hash & mask];
    nodes_[i].next = head;
    head = i;
  }
}

void StringHashSet::Reserve(size_t n) {
  nodes_.reserve(n);
  if (BucketsFor(n) > buckets_.size()) Rebuild(BucketsFor(n));
}

bool StringHashSet::Insert(std::string_view s) {
  uint64_t h = Hash(s);
  if (!buckets_.empty()) {
    for (uint32_t n = buckets_[h & (buckets_.size() - 1)]; n != kNil; n = nodes_[n].next) {
      if (nodes_[n].hash == h && nodes_[n].member == s) return false;
    }
  }
  // Grow at load factor 1, doubling, as Redis's dict.
  if (nodes_.size() + 1 > buckets_.size()) {
    Rebuild(buckets_.empty() ? kMinBuckets : buckets_.size() * 2);
  }
  uint32_t i = static_cast<uint32_t>(nodes_.size());
  uint32_t& head = buckets_[h & (buckets_.size() - 1)];
  nodes_.push_back(Node{std::string(s), h, head});
  head = i;
  return true;
}

uint32_t* StringHashSet::LinkTo(uint32_t i) {
  uint32_t* link = &buckets_[nodes_[i].hash & (buckets_.size() - 1)];
  while (*link != i) link = &nodes_[*link].next;
  return link;
}

void StringHashSet::Unlink(uint32_t i) { *LinkTo(i) = nodes_[i].next; }

void StringHashSet::EraseAt(size_t index) {
  uint32_t i = static_cast<uint32_t>(index);
  Unlink(i);
  uint32_t last = static_cast<uint32_t>(nodes_.size() - 1);
  if (i != last) {
    // Move the last node into the hole and repoint the link that referenced it.
    *LinkTo(last) = i;
    nodes_[i] = std::move(nodes_[last]);
  }
  nodes_.pop_back();
  MaybeShrink();
}

bool StringHashSet::Erase(std::string_view s) {
  uint32_t i = FindIndex(s);
  if (i == kNil) return false;
  EraseAt(i);
  return true;
}

void StringHashSet::MaybeShrink() {
  // Redis's htNeedsResize: under 10% full (and above the minimum size) shrinks to fit.
  if (buckets_.size() > kMinBuckets && nodes_.size() * 10 < buckets_.size()) {
    Rebuild(BucketsFor(nodes_.size()));
  }
  if (nodes_.empty()) {
    buckets_.clear();
    buckets_.shrink_to_fit();
  }
  if (nodes_.capacity() > 64 && nodes_.size() * 4 < nodes_.capacity()) nodes_.shrink_to_fit();
}

// ---------------------------------------------------------------------------------------------
// SetValue

std::string_view SetValue::FormatInt(int64_t v, char* buf) {
  auto [end, ec] = std::to_chars(buf, buf + 21, v);
  return std::string_view(buf, end - buf);
}

std::unique_ptr<SetValue> SetValue::CreateFor(std::string_view first) {
  auto set = std::make_unique<SetValue>();
  if (!IsCanonicalInt(first)) set->encoding_ = Encoding::kHashtable;
  return set;
}

void SetValue::ConvertToHashtable() {
  if (!is_intset()) return;
  StringHashSet strs;
  strs.Reserve(ints_.size());
  char buf[24];
  for (size_t i = 0; i < ints_.size(); ++i) strs.Insert(FormatInt(ints_.At(i), buf));
  strs_ = std::move(strs);
  ints_ = IntSet();
  encoding_ = Encoding::kHashtable;
}

bool SetValue::Add(std::string_view member, size_t max_intset_entries) {
  if (!is_intset()) return strs_.Insert(member);
  int64_t v = 0;
  if (IsCanonicalInt(member, &v)) {
    if (!ints_.Insert(v)) return false;
    if (ints_.size() > max_intset_entries) ConvertToHashtable();
    return true;
  }
  ConvertToHashtable();
  return strs_.Insert(member);
}

bool SetValue::Remove(std::string_view member) {
  if (!is_intset()) return strs_.Erase(member);
  int64_t v = 0;
  return IsCanonicalInt(member, &v) && ints_.Erase(v);
}

bool SetValue::Contains(std::string_view member) const {
  if (!is_intset()) return strs_.Contains(member);
  int64_t v = 0;
  return IsCanonicalInt(member, &v) && ints_.Contains(v);
}

bool SetValue::ContainsInt(int64_t v) const {
  if (is_intset()) return ints_.Contains(v);
  char buf[24];
  return strs_.Contains(FormatInt(v, buf));
}

std::string SetValue::MemberAt(size_t i) const {
  if (!is_intset()) return strs_.At(i);
  char buf[24];
  return std::string(FormatInt(ints_.At(i), buf));
}

std::string SetValue::RemoveAt(size_t i) {
  if (is_intset()) {
    char buf[24];
    std::string out(FormatInt(ints_.At(i), buf));
    ints_.EraseAt(i);
    return out;
  }
  std::string out = strs_.At(i);
  strs_.EraseAt(i);
  return out;
}

std::vector<std::string> SetValue::Members() const {
  std::vector<std::string> out;
  out.reserve(size());
  ForEach([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

}  // namespace shardis
