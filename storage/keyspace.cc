#include "storage/keyspace.h"

#include <cassert>
#include <cstdlib>

#include "absl/hash/hash.h"

namespace shardis {
namespace {

// Segment sizes in bytes, header included: powers of two while small, then jemalloc's large
// size classes between 16K and 32K, so a big table's load stays within [0.75, 0.94].
constexpr size_t kSegmentBytes[] = {128,  256,   512,   1024,  2048,  4096,
                                    8192, 16384, 20480, 24576, 28672, 32768};
constexpr int kSegmentClasses = sizeof(kSegmentBytes) / sizeof(kSegmentBytes[0]);
constexpr size_t kSplitBytes = 20480;  // each half of a split segment starts here
constexpr size_t kHeaderBytes = 32;

// Sanitizer builds move a whole segment to new memory on every insert and erase in it, so that
// any Entry* kept across one (which the invariants forbid, as the entry may have shifted) points
// into freed memory and AddressSanitizer reports it, whatever the hash layout of the run.
#ifdef SHARDIS_RELOCATE_ON_WRITE
constexpr bool kRelocateOnWrite = true;
#else
constexpr bool kRelocateOnWrite = false;
#endif

size_t SlotsFor(size_t bytes) { return (bytes - kHeaderBytes) / sizeof(Entry); }

// The home slot of a tag in a segment with `homes` home slots (tags spread evenly over them).
size_t HomeSlot(uint16_t tag, uint32_t homes) { return (static_cast<size_t>(tag) * homes) >> 16; }

// Entries a segment may hold before it grows: 15/16 of its slots (Robin Hood order keeps
// probes short at this load: a miss stops at the first entry whose home is past the key's).
size_t MaxCountFor(size_t slots) { return slots - slots / 16; }
// The smallest size class whose load would be at most `load_num / 8` with `count` entries.
size_t BytesFor(size_t count, size_t load_num) {
  for (size_t bytes : kSegmentBytes) {
    if (count * 8 <= SlotsFor(bytes) * load_num) return bytes;
  }
  return kSegmentBytes[kSegmentClasses - 1];
}

// The size class after `bytes` (past the largest, 4 KB steps: only for rare overflows).
size_t NextBytes(size_t bytes) {
  for (size_t b : kSegmentBytes) {
    if (b > bytes) return b;
  }
  return bytes + 4096;
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace

// A segment: this header (32 bytes) followed by `slots` Entries.
struct Keyspace::Segment {
  uint32_t slots;           // entries in the block
  uint32_t homes;           // slots that can be a home (the rest is overflow room at the end)
  uint32_t count;           // occupied slots
  uint32_t volatile_count;  // of which with an expiry
  uint32_t bytes;           // allocation size
  uint32_t prefix;          // the top `depth` bits shared by every hash in this segment
  uint8_t depth;
  uint8_t padding[7];

  Entry* entries() {
    return reinterpret_cast<Entry*>(reinterpret_cast<char*>(this) + kHeaderBytes);
  }
  size_t Home(uint16_t tag) const { return HomeSlot(tag, homes); }

  static Segment* New(size_t bytes, int depth, uint32_t prefix) {
    void* mem = std::calloc(1, bytes);
    if (mem == nullptr) std::abort();
    auto* s = static_cast<Segment*>(mem);
    s->bytes = static_cast<uint32_t>(bytes);
    s->slots = static_cast<uint32_t>(SlotsFor(bytes));
    s->homes = s->slots - std::max<uint32_t>(1, s->slots / 16);
    s->depth = static_cast<uint8_t>(depth);
    s->prefix = prefix;
    return s;
  }

  // Places an entry (moved bitwise) in Robin Hood order. False when no slot is free after its
  // insertion point (the segment must grow first).
  bool Place(const Entry& e, size_t* at = nullptr) {
    Entry* es = entries();
    size_t h = Home(e.tag());
    size_t i = h;
    while (i < slots && !es[i].empty() && Home(es[i].tag()) <= h) ++i;
    size_t j = i;
    while (j < slots && !es[j].empty()) ++j;
    if (j == slots) return false;
    if (j > i) std::memmove(static_cast<void*>(es + i + 1), es + i, (j - i) * sizeof(Entry));
    std::memcpy(static_cast<void*>(es + i), &e, sizeof(Entry));
    ++count;
    if (e.has_expiry()) ++volatile_count;
    if (at) *at = i;
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// Entry

AccessPolicy& GlobalAccessPolicy() {
  static AccessPolicy policy;
  return policy;
}

namespace {

// Minutes since the LFU pair's decrement time, modulo 2^16 (Redis's LFUTimeElapsed).
uint64_t LfuElapsedMinutes(uint64_t ldt, int64_t now_ms) {
  uint64_t now = Entry::LfuMinutes(now_ms);
  return now >= ldt ? now - ldt : 65535 - ldt + now;
}

// The shard thread's generator for LFU's probabilistic increments (no shared state).
uint64_t NextLfuRandom() {
  thread_local uint64_t state = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(&state);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

}  // namespace

int Entry::LfuCounter(int64_t now_ms) const {
  uint32_t bits = access_bits();
  uint64_t counter = bits & 0xFF;
  int decay = GlobalAccessPolicy().lfu_decay_time.load(std::memory_order_relaxed);
  uint64_t periods = decay > 0 ? LfuElapsedMinutes(bits >> 8, now_ms) / decay : 0;
  return static_cast<int>(periods > counter ? 0 : counter - periods);
}

void Entry::TouchLfu(int64_t now_ms) {
  uint64_t counter = static_cast<uint64_t>(LfuCounter(now_ms));
  if (counter < 255) {
    // LFULogIncr: increment with probability 1 / ((counter - LFU_INIT_VAL) * factor + 1).
    double r = static_cast<double>(NextLfuRandom() >> 11) * (1.0 / 9007199254740992.0);
    double base = counter > kLfuInitCounter ? static_cast<double>(counter - kLfuInitCounter) : 0.0;
    int factor = GlobalAccessPolicy().lfu_log_factor.load(std::memory_order_relaxed);
    double p = 1.0 / (base * factor + 1);
    if (r < p) ++counter;
  }
  set_access_bits((LfuMinutes(now_ms) << 8) | counter);
}

size_t Entry::key_size() const {
  if (meta_ & kLongKey) return Load<uint32_t>(block() + (has_expiry() ? 8 : 0));
  return (meta_ >> kKeyLenShift) & 0xFF;
}

size_t Entry::value_size() const {
  if (meta_ & kLongValue) {
    return Load<uint64_t>(block() + (has_expiry() ? 8 : 0) + ((meta_ & kLongKey) ? 4 : 0));
  }
  return meta_ >> kValueLenShift;
}

std::string_view Entry::key() const { return {block() + header_size(), key_size()}; }

std::string_view Entry::str() const { return {value_bytes(), value_size()}; }

Collection* Entry::collection() const {
  if (type() == ValueType::kString) return nullptr;
  return Load<Collection*>(value_bytes());
}

int64_t Entry::expire_at_ms() const { return has_expiry() ? Load<int64_t>(block()) : kNoExpiry; }

Value Entry::ToValue() const {
  Value v;
  v.type = type();
  if (v.type == ValueType::kString) {
    v.encoding = encoding();
    v.str = std::string(str());
  } else {
    if (Collection* c = collection()) v.coll = CollectionPtr(c->Clone());
  }
  return v;
}

const char* EncodingName(const Entry& entry) {
  if (entry.type() != ValueType::kString) return entry.collection()->EncodingName();
  switch (entry.encoding()) {
    case StringEncoding::kInt:
      return "int";
    case StringEncoding::kEmbstr:
      return "embstr";
    case StringEncoding::kRaw:
      return "raw";
  }
  return "raw";
}

// ---------------------------------------------------------------------------------------------
// Heap blocks

namespace {

void FreeValue(Entry& e) {
  if (e.type() == ValueType::kString) return;
  if (Collection* c = e.collection()) DisposeCollection(std::unique_ptr<Collection>(c));
}

}  // namespace

// Writes e's block anew: [expiry][long key length][long value length][key][value], where the
// value is `copy` bytes from `value` followed by zeros up to `value_size`. The old block is freed
// (not its collection: callers dispose of it or have handed it over).
void Keyspace::Rebuild(Entry* e, bool has_expiry, int64_t expiry, std::string_view value,
                       size_t value_size) {
  std::string_view key = e->empty() ? std::string_view() : e->key();
  bool long_key = key.size() > Entry::kShortKeyMax;
  bool long_value = value_size > Entry::kShortValueMax;
  size_t header = (has_expiry ? 8 : 0) + (long_key ? 4 : 0) + (long_value ? 8 : 0);
  size_t total = header + key.size() + value_size;
  char* b = static_cast<char*>(std::malloc(total == 0 ? 1 : total));
  if (b == nullptr) std::abort();
  assert((reinterpret_cast<uint64_t>(b) & ~Entry::kAddressMask) == 0);
  char* p = b;
  if (has_expiry) {
    Store<int64_t>(p, expiry);
    p += 8;
  }
  if (long_key) {
    Store<uint32_t>(p, static_cast<uint32_t>(key.size()));
    p += 4;
  }
  if (long_value) {
    Store<uint64_t>(p, value_size);
    p += 8;
  }
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  p += key.size();
  size_t copy = std::min(value.size(), value_size);
  if (copy > 0) std::memcpy(p, value.data(), copy);
  if (value_size > copy) std::memset(p + copy, 0, value_size - copy);

  uint64_t meta = e->meta_ & (Entry::kTypeMask | (uint64_t{3} << Entry::kEncodingShift) |
                              (Entry::kClockMax << Entry::kClockShift));
  if (has_expiry) meta |= Entry::kHasExpiry;
  if (long_key) {
    meta |= Entry::kLongKey;
  } else {
    meta |= static_cast<uint64_t>(key.size()) << Entry::kKeyLenShift;
  }
  if (long_value) {
    meta |= Entry::kLongValue;
  } else {
    meta |= static_cast<uint64_t>(value_size) << Entry::kValueLenShift;
  }
  char* old = e->empty() ? nullptr : e->block();
  e->word_ = reinterpret_cast<uint64_t>(b) | (e->word_ & ~Entry::kAddressMask);
  e->meta_ = meta;
  std::free(old);
}

void Keyspace::SetString(Entry* e, std::string_view s, StringEncoding encoding) {
  if (e->type() == ValueType::kString && s.size() == e->value_size()) {
    // Same length (a SET overwriting a value of the same size): the block stays as it is.
    if (!s.empty()) std::memmove(const_cast<char*>(e->value_bytes()), s.data(), s.size());
    e->set_encoding(encoding);
    return;
  }
  FreeValue(*e);
  e->meta_ &= ~Entry::kTypeMask;
  e->set_encoding(encoding);
  Rebuild(e, e->has_expiry(), e->expire_at_ms(), s, s.size());
}

char* Keyspace::ResizeString(Entry* e, size_t n) {
  assert(e->type() == ValueType::kString);
  e->set_encoding(StringEncoding::kRaw);
  size_t old_size = e->value_size();
  if (n == old_size) return const_cast<char*>(e->value_bytes());
  if ((old_size > Entry::kShortValueMax) != (n > Entry::kShortValueMax)) {
    Rebuild(e, e->has_expiry(), e->expire_at_ms(), e->str(), n);
    return const_cast<char*>(e->value_bytes());
  }
  // Same layout: realloc, which stays in place within a size class and, as the classes grow
  // geometrically, makes repeated APPENDs amortized O(1) per byte.
  size_t prefix = e->header_size() + e->key_size();
  char* b = static_cast<char*>(std::realloc(e->block(), prefix + n == 0 ? 1 : prefix + n));
  if (b == nullptr) std::abort();
  e->word_ = reinterpret_cast<uint64_t>(b) | (e->word_ & ~Entry::kAddressMask);
  if (n > Entry::kShortValueMax) {
    Store<uint64_t>(b + (e->has_expiry() ? 8 : 0) + ((e->meta_ & Entry::kLongKey) ? 4 : 0), n);
  } else {
    e->meta_ = (e->meta_ & ~(Entry::kShortValueMax << Entry::kValueLenShift)) |
               (static_cast<uint64_t>(n) << Entry::kValueLenShift);
  }
  if (n > old_size) std::memset(b + prefix + old_size, 0, n - old_size);
  return b + prefix;
}

void Keyspace::SetCollection(Entry* e, ValueType type, std::unique_ptr<Collection> c) {
  assert(type != ValueType::kString);
  FreeValue(*e);
  Collection* raw = c.release();
  e->meta_ = (e->meta_ & ~Entry::kTypeMask) | static_cast<uint64_t>(type);
  Rebuild(e, e->has_expiry(), e->expire_at_ms(),
          std::string_view(reinterpret_cast<const char*>(&raw), sizeof(raw)), sizeof(raw));
}

void Keyspace::Assign(Entry* e, Value value) {
  if (value.type == ValueType::kString) {
    SetString(e, value.str, value.encoding);
  } else {
    SetCollection(e, value.type, value.coll.Release());
  }
}

Value Keyspace::TakeValue(Entry* e) {
  Value v;
  v.type = e->type();
  if (v.type == ValueType::kString) {
    v.encoding = e->encoding();
    v.str = std::string(e->str());
  } else {
    v.coll = CollectionPtr(std::unique_ptr<Collection>(e->collection()));
    e->meta_ &= ~Entry::kTypeMask;  // the collection is no longer ours
  }
  e->set_encoding(StringEncoding::kEmbstr);
  Rebuild(e, e->has_expiry(), e->expire_at_ms(), {}, 0);
  return v;
}

void Keyspace::SetExpiry(Entry* e, int64_t at_ms) {
  if (e->has_expiry()) {
    Store<int64_t>(e->block(), at_ms);
    return;
  }
  ++SegmentOfEntry(e)->volatile_count;
  std::string_view value = e->type() == ValueType::kString
                               ? e->str()
                               : std::string_view(e->value_bytes(), sizeof(Collection*));
  Rebuild(e, true, at_ms, value, value.size());
}

void Keyspace::ClearExpiry(Entry* e) {
  if (!e->has_expiry()) return;
  --SegmentOfEntry(e)->volatile_count;
  std::string_view value = e->type() == ValueType::kString
                               ? e->str()
                               : std::string_view(e->value_bytes(), sizeof(Collection*));
  Rebuild(e, false, kNoExpiry, value, value.size());
}

// ---------------------------------------------------------------------------------------------
// Table

uint64_t Keyspace::HashKey(std::string_view key) { return absl::Hash<std::string_view>{}(key); }

Keyspace::~Keyspace() { Clear(); }

void Keyspace::Clear() {
  for (size_t i = 0; i < directory_.size();) {
    Segment* seg = directory_[i];
    Entry* es = seg->entries();
    for (size_t k = 0; k < seg->slots; ++k) {
      if (es[k].empty()) continue;
      FreeValue(es[k]);
      std::free(es[k].block());
    }
    i += size_t{1} << (depth_ - seg->depth);
    std::free(seg);
  }
  directory_.clear();
  directory_homes_.clear();
  depth_ = 0;
  size_ = 0;
  segments_ = 0;
  table_bytes_ = 0;
}

Entry* Keyspace::FindIn(uint64_t hash, std::string_view key, Segment** segment) const {
  Segment* seg = SegmentFor(hash);
  *segment = seg;
  auto tag = static_cast<uint16_t>(hash);
  Entry* es = seg->entries();
  size_t h = seg->Home(tag);
  for (size_t i = h; i < seg->slots; ++i) {
    Entry& e = es[i];
    if (e.empty() || seg->Home(e.tag()) > h) return nullptr;
    if (e.tag() == tag && e.key() == key) return &e;
  }
  return nullptr;
}

void Keyspace::PrefetchSlot(uint64_t hash) const {
  if (size_ == 0) return;
  // Only the directory is read here (it stays in cache); the segment's header line is hinted
  // too, since PrefetchBlock and FindIn read it.
  size_t index = DirectorySlot(hash);
  const char* seg = reinterpret_cast<const char*>(directory_[index]);
  size_t home = HomeSlot(static_cast<uint16_t>(hash), directory_homes_[index]);
  __builtin_prefetch(seg);
  __builtin_prefetch(seg + kHeaderBytes + home * sizeof(Entry));
}

void Keyspace::PrefetchBlock(uint64_t hash) const {
  if (size_ == 0) return;
  Segment* seg = SegmentFor(hash);
  auto tag = static_cast<uint16_t>(hash);
  const Entry* es = seg->entries();
  size_t h = seg->Home(tag);
  for (size_t i = h; i < seg->slots; ++i) {
    const Entry& e = es[i];
    if (e.empty() || seg->Home(e.tag()) > h) return;
    if (e.tag() == tag) {
      // The block's first line holds the key; a small value may end on the next one (a 48-byte
      // block straddles two lines at half of its possible offsets).
      const char* block = e.block();
      __builtin_prefetch(block);
      if ((e.meta_ & (Entry::kLongKey | Entry::kLongValue)) == 0) {
        size_t value = e.type() == ValueType::kString ? e.meta_ >> Entry::kValueLenShift : 8;
        size_t bytes = e.header_size() + ((e.meta_ >> Entry::kKeyLenShift) & 0xFF) + value;
        __builtin_prefetch(block + std::min<size_t>(bytes, 128) - 1);
      }
      return;
    }
  }
}

Entry* Keyspace::Find(std::string_view key) {
  if (size_ == 0) return nullptr;
  Segment* seg;
  return FindIn(HashKey(key), key, &seg);
}

Entry* Keyspace::FindOrInsert(std::string_view key, bool* inserted) {
  uint64_t hash = HashKey(key);
  if (size_ > 0) {
    Segment* seg;
    if (Entry* e = FindIn(hash, key, &seg)) {
      *inserted = false;
      return e;
    }
  }
  *inserted = true;
  return Insert(hash, key);
}

Entry* Keyspace::Insert(uint64_t hash, std::string_view key) {
  if (directory_.empty()) {
    directory_.push_back(Segment::New(kSegmentBytes[0], 0, 0));
    directory_homes_.push_back(directory_.back()->homes);
    segments_ = 1;
    table_bytes_ = kSegmentBytes[0];
  }
  // The new entry: an empty string; its block holds just the key.
  Entry fresh;
  fresh.word_ = (static_cast<uint64_t>(static_cast<uint16_t>(hash)) << 48) | snapshot_bit_;
  fresh.meta_ = static_cast<uint64_t>(StringEncoding::kEmbstr) << Entry::kEncodingShift;
  {
    // Rebuild() reads the key from the entry's block; give it one holding just the key.
    bool long_key = key.size() > Entry::kShortKeyMax;
    size_t total = (long_key ? 4 : 0) + key.size();
    char* b = static_cast<char*>(std::malloc(total == 0 ? 1 : total));
    if (b == nullptr) std::abort();
    char* p = b;
    if (long_key) {
      Store<uint32_t>(p, static_cast<uint32_t>(key.size()));
      p += 4;
      fresh.meta_ |= Entry::kLongKey;
    } else {
      fresh.meta_ |= static_cast<uint64_t>(key.size()) << Entry::kKeyLenShift;
    }
    if (!key.empty()) std::memcpy(p, key.data(), key.size());
    fresh.word_ |= reinterpret_cast<uint64_t>(b);
  }
  if (kRelocateOnWrite) Rebuild(SegmentFor(hash), SegmentFor(hash)->bytes);
  for (;;) {
    Segment* seg = SegmentFor(hash);
    size_t at = 0;
    if (seg->count < MaxCountFor(seg->slots) && seg->Place(fresh, &at)) {
      ++size_;
      return &seg->entries()[at];
    }
    Grow(seg);
  }
}

void Keyspace::Grow(Segment* seg) {
  if (seg->bytes < kSegmentBytes[kSegmentClasses - 1]) {
    Rebuild(seg, NextBytes(seg->bytes));
  } else {
    Split(seg);
  }
}

void Keyspace::ReplaceSegment(Segment* old_seg, Segment* new_seg) {
  int shift = depth_ - old_seg->depth;
  size_t first = static_cast<size_t>(old_seg->prefix) << shift;
  for (size_t i = 0; i < (size_t{1} << shift); ++i) {
    directory_[first + i] = new_seg;
    directory_homes_[first + i] = new_seg->homes;
  }
  table_bytes_ += new_seg->bytes;
  table_bytes_ -= old_seg->bytes;
  std::free(old_seg);
}

// Moves the entries of seg into a new segment of `bytes` (bigger if they do not fit).
void Keyspace::Rebuild(Segment* seg, size_t bytes) {
  for (;;) {
    Segment* fresh = Segment::New(bytes, seg->depth, seg->prefix);
    Entry* es = seg->entries();
    bool ok = true;
    for (size_t i = 0; i < seg->slots && ok; ++i) {
      if (!es[i].empty()) ok = fresh->Place(es[i]);
    }
    if (ok) {
      ReplaceSegment(seg, fresh);
      return;
    }
    std::free(fresh);  // clustering left no room at the end: take the next size
    bytes = NextBytes(bytes);
  }
}

void Keyspace::Split(Segment* seg) {
  assert(seg->depth < 32);
  if (seg->depth == depth_) {
    // Double the directory: slot i becomes slots 2i and 2i+1.
    std::vector<Segment*> doubled(directory_.size() * 2);
    std::vector<uint32_t> doubled_homes(directory_.size() * 2);
    for (size_t i = 0; i < directory_.size(); ++i) {
      doubled[2 * i] = doubled[2 * i + 1] = directory_[i];
      doubled_homes[2 * i] = doubled_homes[2 * i + 1] = directory_homes_[i];
    }
    directory_ = std::move(doubled);
    directory_homes_ = std::move(doubled_homes);
    ++depth_;
  }
  int d = seg->depth;
  Segment* halves[2] = {Segment::New(kSplitBytes, d + 1, seg->prefix * 2),
                        Segment::New(kSplitBytes, d + 1, seg->prefix * 2 + 1)};
  Entry* es = seg->entries();
  for (size_t i = 0; i < seg->slots; ++i) {
    if (es[i].empty()) continue;
    uint64_t hash = HashKey(es[i].key());
    Segment*& half = halves[(hash >> (63 - d)) & 1];
    while (!half->Place(es[i])) {
      // Overflow at the end of the half (rare): move it to the next size and retry.
      Segment* bigger = Segment::New(NextBytes(half->bytes), half->depth, half->prefix);
      Entry* hs = half->entries();
      for (size_t k = 0; k < half->slots; ++k) {
        if (!hs[k].empty()) bigger->Place(hs[k]);
      }
      std::free(half);
      half = bigger;
    }
  }
  int shift = depth_ - d - 1;
  for (int h = 0; h < 2; ++h) {
    size_t first = static_cast<size_t>(halves[h]->prefix) << shift;
    for (size_t i = 0; i < (size_t{1} << shift); ++i) {
      directory_[first + i] = halves[h];
      directory_homes_[first + i] = halves[h]->homes;
    }
    table_bytes_ += halves[h]->bytes;
  }
  table_bytes_ -= seg->bytes;
  ++segments_;
  std::free(seg);
}

bool Keyspace::Erase(std::string_view key) {
  if (size_ == 0) return false;
  Segment* seg;
  Entry* e = FindIn(HashKey(key), key, &seg);
  if (e == nullptr) return false;
  size_t slot = static_cast<size_t>(e - seg->entries());
  FreeValue(*e);
  std::free(e->block());
  EraseAt(seg, slot);
  return true;
}

void Keyspace::EraseAt(Segment* seg, size_t slot) {
  Entry* es = seg->entries();
  if (es[slot].has_expiry()) --seg->volatile_count;
  // Backward shift: pull displaced followers one step towards their homes.
  size_t j = slot + 1;
  while (j < seg->slots && !es[j].empty() && seg->Home(es[j].tag()) < j) ++j;
  if (j > slot + 1) {
    std::memmove(static_cast<void*>(es + slot), es + slot + 1, (j - slot - 1) * sizeof(Entry));
  }
  es[j - 1] = Entry();
  --seg->count;
  --size_;
  if (!MaybeShrink(seg) && kRelocateOnWrite) Rebuild(seg, seg->bytes);
}

bool Keyspace::MaybeShrink(Segment* seg) {
  if (seg->bytes <= kSegmentBytes[0] || seg->count * 4 >= seg->slots) return false;
  size_t bytes = BytesFor(seg->count, 4);  // about half full afterwards
  if (bytes >= seg->bytes) return false;
  Rebuild(seg, bytes);
  return true;
}

uint64_t Keyspace::SegmentEnd(size_t index) const {
  const Segment* seg = directory_[index];
  return (static_cast<uint64_t>(seg->prefix) + 1) << (32 - seg->depth);
}

uint64_t Keyspace::Scan(uint64_t cursor, size_t count, const std::function<void(Entry&)>& fn) {
  if (directory_.empty()) return 0;
  uint64_t position = cursor >> 16;
  if (position >= (uint64_t{1} << 32)) return 0;
  if (count == 0) count = 1;
  auto threshold = static_cast<uint16_t>(cursor);
  size_t index = DirectoryIndex(static_cast<uint32_t>(position));
  Segment* seg = directory_[index];
  Entry* es = seg->entries();
  size_t n = 0;
  for (size_t i = seg->Home(threshold); i < seg->slots; ++i) {
    if (es[i].empty()) continue;
    size_t home = seg->Home(es[i].tag());
    if (es[i].tag() >= threshold) {
      fn(es[i]);
      ++n;
    }
    bool group_ends = i + 1 == seg->slots || es[i + 1].empty() || seg->Home(es[i + 1].tag()) > home;
    if (n >= count && group_ends) {
      // Every entry with home <= `home` has been seen: resume at the first tag past them.
      uint64_t next_tag = ((static_cast<uint64_t>(home) + 1) * 65536 + seg->homes - 1) / seg->homes;
      if (next_tag < 65536) return (position << 16) | next_tag;
      break;
    }
  }
  uint64_t end = SegmentEnd(index);
  return end >= (uint64_t{1} << 32) ? 0 : end << 16;
}

uint64_t Keyspace::ScanVolatile(uint64_t cursor, int max_segments,
                                const std::function<void(Entry&)>& fn) {
  if (directory_.empty()) return 0;
  uint64_t position = cursor >> 16;
  for (int visited = 0; visited < max_segments; ++visited) {
    if (position >= (uint64_t{1} << 32)) return 0;
    size_t index = DirectoryIndex(static_cast<uint32_t>(position));
    Segment* seg = directory_[index];
    if (seg->volatile_count > 0) {
      Entry* es = seg->entries();
      for (size_t i = 0; i < seg->slots; ++i) {
        if (!es[i].empty() && es[i].has_expiry()) fn(es[i]);
      }
    }
    position = SegmentEnd(index);
  }
  return position >= (uint64_t{1} << 32) ? 0 : position << 16;
}

Entry* Keyspace::Random(uint64_t random_bits) {
  if (size_ == 0) return nullptr;
  uint64_t r = random_bits;
  for (int attempt = 0; attempt < 16; ++attempt) {
    r ^= r >> 31;
    r *= 0xBF58476D1CE4E5B9ULL;
    r ^= r >> 27;
    Segment* seg = directory_[r % directory_.size()];
    if (seg->count == 0) continue;
    Entry* es = seg->entries();
    size_t start = (r >> 32) % seg->slots;
    for (size_t k = 0; k < seg->slots; ++k) {
      size_t i = (start + k) % seg->slots;
      if (!es[i].empty()) return &es[i];
    }
  }
  for (Segment* seg : directory_) {
    Entry* es = seg->entries();
    for (size_t i = 0; i < seg->slots; ++i) {
      if (!es[i].empty()) return &es[i];
    }
  }
  return nullptr;
}

size_t Keyspace::volatile_size() const {
  size_t n = 0;
  for (size_t i = 0; i < directory_.size();) {
    const Segment* seg = directory_[i];
    n += seg->volatile_count;
    i += size_t{1} << (depth_ - seg->depth);
  }
  return n;
}

size_t Keyspace::Sample(uint64_t random_bits, size_t n, bool volatile_only,
                        const std::function<void(Entry&)>& fn) {
  if (size_ == 0 || n == 0) return 0;
  uint64_t r = random_bits;
  r ^= r >> 31;
  r *= 0xBF58476D1CE4E5B9ULL;
  r ^= r >> 27;
  size_t index = r % directory_.size();
  const Segment* start_seg = directory_[index];
  size_t given = 0;
  bool first = true;
  for (int visited = 0; visited < 64 && given < n; ++visited) {
    Segment* seg = directory_[index];
    if (seg->count > 0 && (!volatile_only || seg->volatile_count > 0)) {
      Entry* es = seg->entries();
      size_t start = first ? (r >> 32) % seg->slots : 0;
      for (size_t k = 0; k < seg->slots && given < n; ++k) {
        size_t i = (start + k) % seg->slots;
        if (es[i].empty() || (volatile_only && !es[i].has_expiry())) continue;
        fn(es[i]);
        ++given;
      }
    }
    first = false;
    // The next segment in hash order (wrapping around).
    uint64_t end = SegmentEnd(index);
    index = end >= (uint64_t{1} << 32) ? 0 : DirectoryIndex(static_cast<uint32_t>(end));
    if (directory_[index] == start_seg) break;  // came full circle
  }
  return given;
}

}  // namespace shardis
