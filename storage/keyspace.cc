#include "storage/keyspace.h"

#include <chrono>

#include "absl/hash/hash.h"

namespace shardis {
namespace {

constexpr size_t kInitialSize = 4;
constexpr int kEmptyVisitsPerStep = 10;

uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

size_t NextPowerOfTwo(size_t n) {
  size_t size = kInitialSize;
  while (size < n) size <<= 1;
  return size;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint64_t Keyspace::HashKey(std::string_view key) { return absl::Hash<std::string_view>{}(key); }

Keyspace::~Keyspace() { Clear(); }

void Keyspace::Clear() {
  for (Table& table : tables_) {
    for (size_t i = 0; i < table.size(); ++i) {
      Entry* e = table.buckets[i];
      while (e != nullptr) {
        Entry* next = e->next;
        delete e;
        e = next;
      }
    }
    table = Table{};
  }
  rehash_index_ = -1;
}

void Keyspace::StartResize(size_t new_size) {
  Table& target = tables_[1];
  target.buckets = std::make_unique<Entry*[]>(new_size);
  target.mask = new_size - 1;
  target.used = 0;
  rehash_index_ = 0;
}

void Keyspace::MaybeGrow() {
  if (rehashing()) return;
  Table& t = tables_[0];
  if (t.buckets == nullptr) {
    t.buckets = std::make_unique<Entry*[]>(kInitialSize);
    t.mask = kInitialSize - 1;
    return;
  }
  if (t.used >= t.size()) StartResize(NextPowerOfTwo(t.used * 2));
}

void Keyspace::MaybeShrink() {
  if (rehashing()) return;
  Table& t = tables_[0];
  if (t.size() <= kInitialSize) return;
  if (t.used * 10 < t.size()) StartResize(NextPowerOfTwo(t.used));
}

void Keyspace::RehashStep(int buckets) {
  if (!rehashing()) return;
  Table& from = tables_[0];
  Table& to = tables_[1];
  int empty_visits = buckets * kEmptyVisitsPerStep;
  while (buckets-- > 0 && from.used != 0) {
    while (from.buckets[rehash_index_] == nullptr) {
      ++rehash_index_;
      if (--empty_visits == 0) return;
    }
    Entry* e = from.buckets[rehash_index_];
    while (e != nullptr) {
      Entry* next = e->next;
      uint64_t idx = e->hash & to.mask;
      e->next = to.buckets[idx];
      to.buckets[idx] = e;
      --from.used;
      ++to.used;
      e = next;
    }
    from.buckets[rehash_index_] = nullptr;
    ++rehash_index_;
  }
  if (from.used == 0) {
    tables_[0] = std::move(tables_[1]);
    tables_[1] = Table{};
    rehash_index_ = -1;
  }
}

bool Keyspace::RehashFor(int64_t budget_us) {
  int64_t start = NowMicros();
  while (rehashing()) {
    RehashStep(100);
    if (NowMicros() - start > budget_us) break;
  }
  return rehashing();
}

Entry* Keyspace::FindWithHash(std::string_view key, uint64_t hash) {
  for (int i = 0; i < 2; ++i) {
    const Table& t = tables_[i];
    if (t.buckets == nullptr) continue;
    for (Entry* e = t.buckets[hash & t.mask]; e != nullptr; e = e->next) {
      if (e->hash == hash && e->key == key) return e;
    }
    if (!rehashing()) break;
  }
  return nullptr;
}

Entry* Keyspace::Find(std::string_view key) {
  if (size() == 0) return nullptr;
  RehashStep(1);
  return FindWithHash(key, HashKey(key));
}

Entry* Keyspace::FindOrInsert(std::string_view key, bool* inserted) {
  RehashStep(1);
  uint64_t hash = HashKey(key);
  if (Entry* e = FindWithHash(key, hash)) {
    *inserted = false;
    return e;
  }
  MaybeGrow();
  Table& t = rehashing() ? tables_[1] : tables_[0];
  auto* e = new Entry;
  e->hash = hash;
  e->key.assign(key.data(), key.size());
  uint64_t idx = hash & t.mask;
  e->next = t.buckets[idx];
  t.buckets[idx] = e;
  ++t.used;
  *inserted = true;
  return e;
}

std::unique_ptr<Entry> Keyspace::Detach(std::string_view key) {
  if (size() == 0) return nullptr;
  RehashStep(1);
  uint64_t hash = HashKey(key);
  for (int i = 0; i < 2; ++i) {
    Table& t = tables_[i];
    if (t.buckets == nullptr) continue;
    Entry** link = &t.buckets[hash & t.mask];
    while (*link != nullptr) {
      Entry* e = *link;
      if (e->hash == hash && e->key == key) {
        *link = e->next;
        e->next = nullptr;
        --t.used;
        return std::unique_ptr<Entry>(e);
      }
      link = &e->next;
    }
    if (!rehashing()) break;
  }
  return nullptr;
}

uint64_t Keyspace::Scan(uint64_t cursor, const std::function<void(Entry&)>& fn) {
  if (size() == 0) return 0;
  auto visit = [&fn](const Table& t, uint64_t idx) {
    for (Entry* e = t.buckets[idx & t.mask]; e != nullptr;) {
      Entry* next = e->next;
      fn(*e);
      e = next;
    }
  };
  uint64_t mask;
  if (!rehashing()) {
    const Table& t = tables_[0];
    mask = t.mask;
    visit(t, cursor);
  } else {
    // Visit the small table's bucket, then every bucket of the large table that expands it.
    const Table* small = &tables_[0];
    const Table* large = &tables_[1];
    if (small->size() > large->size()) std::swap(small, large);
    uint64_t small_mask = small->mask;
    mask = large->mask;
    visit(*small, cursor);
    do {
      visit(*large, cursor);
      cursor |= ~mask;
      cursor = ReverseBits(cursor);
      ++cursor;
      cursor = ReverseBits(cursor);
    } while (cursor & (mask ^ small_mask));
    return cursor;
  }
  cursor |= ~mask;
  cursor = ReverseBits(cursor);
  ++cursor;
  cursor = ReverseBits(cursor);
  return cursor;
}

Entry* Keyspace::Random(uint64_t random_bits) {
  if (size() == 0) return nullptr;
  // Pick a non-empty bucket, then an element of its chain.
  for (int attempt = 0;; ++attempt) {
    uint64_t r = random_bits + attempt * 0x9E3779B97F4A7C15ULL;
    r ^= r >> 31;
    r *= 0xBF58476D1CE4E5B9ULL;
    r ^= r >> 27;
    const Table* t = &tables_[0];
    if (rehashing() && (tables_[0].used == 0 || ((r >> 40) & 1))) t = &tables_[1];
    if (t->used == 0) t = &tables_[t == &tables_[0] ? 1 : 0];
    Entry* head = t->buckets[r & t->mask];
    if (head == nullptr) continue;
    size_t len = 0;
    for (Entry* e = head; e != nullptr; e = e->next) ++len;
    size_t pick = (r >> 32) % len;
    Entry* e = head;
    while (pick-- > 0) e = e->next;
    return e;
  }
}

}  // namespace shardis
