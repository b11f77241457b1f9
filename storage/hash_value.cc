// HashValue: listpack and hashtable encodings of the hash type (see hash_value.h). Used only on
// the owning shard's thread.
#include "storage/hash_value.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

#include "absl/hash/hash.h"

namespace shardis {
namespace {

constexpr size_t kInitialBuckets = 4;
constexpr int kEmptyVisitsPerStep = 10;
constexpr size_t kMinFillPercent = 10;  // a table below this fill shrinks (HASHTABLE_MIN_FILL)
// A listpack may not grow past 1 GiB (Redis's LISTPACK_MAX_SAFETY_SIZE).
constexpr size_t kListpackSafetyLimit = size_t{1} << 30;

uint64_t HashField(std::string_view field) { return absl::Hash<std::string_view>{}(field); }

uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

size_t BucketsFor(size_t n) {
  size_t size = kInitialBuckets;
  while (size < n) size <<= 1;
  return size;
}

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Varint (LEB128) length prefixes of the listpack strings.
void PutVarint(std::string* buf, size_t n) {
  while (n >= 0x80) {
    buf->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  buf->push_back(static_cast<char>(n));
}

bool GetVarint(std::string_view buf, size_t* pos, size_t* n) {
  size_t value = 0;
  for (int shift = 0; *pos < buf.size() && shift < 64; shift += 7) {
    uint8_t b = static_cast<uint8_t>(buf[(*pos)++]);
    value |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *n = value;
      return true;
    }
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The hashtable encoding.

class HashValue::Table {
 public:
  // One allocation per entry: the header, then the field bytes, then the value bytes.
  struct Node {
    Node* next;
    uint64_t hash;
    size_t field_len;
    size_t value_len;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view field() const { return {data(), field_len}; }
    std::string_view value() const { return {data() + field_len, value_len}; }
  };

  struct Buckets {
    std::unique_ptr<Node*[]> slots;
    uint64_t mask = 0;  // size - 1, meaningful when slots != null
    size_t used = 0;
    size_t size() const { return slots ? mask + 1 : 0; }
  };

  Table() = default;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table() {
    for (Buckets& b : t_) {
      for (size_t i = 0; i < b.size(); ++i) {
        for (Node* n = b.slots[i]; n != nullptr;) {
          Node* next = n->next;
          FreeNode(n);
          n = next;
        }
      }
    }
  }

  size_t size() const { return t_[0].used + t_[1].used; }
  bool rehashing() const { return rehash_index_ >= 0; }
  const Buckets& buckets(int i) const { return t_[i]; }

  // Sizes an empty table for n entries (conversion and copies insert that many at once).
  void Reserve(size_t n) {
    if (size() != 0 || t_[0].slots != nullptr) return;
    Init(&t_[0], BucketsFor(n));
  }

  const Node* Find(std::string_view field) const {
    uint64_t hash = HashField(field);
    for (int i = 0; i < 2; ++i) {
      const Buckets& b = t_[i];
      if (b.slots == nullptr) continue;
      for (const Node* n = b.slots[hash & b.mask]; n != nullptr; n = n->next) {
        if (n->hash == hash && n->field() == field) return n;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  // Sets field to value; true when the field is new.
  bool Set(std::string_view field, std::string_view value) {
    RehashStep(1);
    uint64_t hash = HashField(field);
    if (Node** link = FindLink(field, hash)) {
      Node* old = *link;
      if (old->value_len == value.size()) {
        std::memcpy(old->data() + old->field_len, value.data(), value.size());
        return false;
      }
      Node* fresh = NewNode(hash, field, value);
      fresh->next = old->next;
      *link = fresh;
      FreeNode(old);
      return false;
    }
    Insert(NewNode(hash, field, value));
    return true;
  }

  // Inserts a field known to be absent.
  void Insert(Node* node) {
    MaybeGrow();
    Buckets& b = rehashing() ? t_[1] : t_[0];
    uint64_t idx = node->hash & b.mask;
    node->next = b.slots[idx];
    b.slots[idx] = node;
    ++b.used;
  }

  bool Erase(std::string_view field) {
    if (size() == 0) return false;
    RehashStep(1);
    uint64_t hash = HashField(field);
    for (int i = 0; i < 2; ++i) {
      Buckets& b = t_[i];
      if (b.slots == nullptr) continue;
      for (Node** link = &b.slots[hash & b.mask]; *link != nullptr; link = &(*link)->next) {
        Node* n = *link;
        if (n->hash == hash && n->field() == field) {
          *link = n->next;
          FreeNode(n);
          --b.used;
          MaybeShrink();
          return true;
        }
      }
      if (!rehashing()) break;
    }
    return false;
  }

  // Redis's dictScan over one or two bucket arrays.
  uint64_t Scan(uint64_t cursor,
                const std::function<void(std::string_view, std::string_view)>& fn) const {
    if (size() == 0) return 0;
    auto visit = [&fn](const Buckets& b, uint64_t idx) {
      for (const Node* n = b.slots[idx & b.mask]; n != nullptr; n = n->next) {
        fn(n->field(), n->value());
      }
    };
    uint64_t mask;
    if (!rehashing()) {
      mask = t_[0].mask;
      visit(t_[0], cursor);
    } else {
      // The small table's bucket, then every bucket of the large table that expands it.
      const Buckets* small = &t_[0];
      const Buckets* large = &t_[1];
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

  // A node drawn uniformly: a random bucket over both tables (so a rehash does not favour the
  // smaller one), then a random place among kChainBound; a place past the chain's end rejects
  // the draw. Picking a random node of whatever chain was hit instead made a node sharing its
  // bucket half as likely as a node alone (HRANDFIELD's picks were visibly skewed). A chain
  // longer than the bound (only with a pathological hash) picks among its own length.
  const Node* Random(uint64_t random_bits) const {
    constexpr size_t kChainBound = 4;
    size_t n0 = t_[0].size();
    size_t n1 = rehashing() ? t_[1].size() : 0;
    assert(n0 + n1 > 0);
    uint64_t r = random_bits;
    for (;;) {
      r = Mix(r);
      uint64_t slot = (r & 0xFFFFFFFFu) % (n0 + n1);
      const Buckets& b = slot < n0 ? t_[0] : t_[1];
      const Node* head = b.slots[slot < n0 ? slot : slot - n0];
      if (head == nullptr) continue;
      size_t len = 0;
      for (const Node* n = head; n != nullptr; n = n->next) ++len;
      size_t pick = (r >> 32) % std::max(len, kChainBound);
      if (pick >= len) continue;
      const Node* n = head;
      while (pick-- > 0) n = n->next;
      return n;
    }
  }

  static Node* NewNode(uint64_t hash, std::string_view field, std::string_view value) {
    void* mem = ::operator new(sizeof(Node) + field.size() + value.size());
    Node* n = new (mem) Node{nullptr, hash, field.size(), value.size()};
    if (!field.empty()) std::memcpy(n->data(), field.data(), field.size());
    if (!value.empty()) std::memcpy(n->data() + field.size(), value.data(), value.size());
    return n;
  }
  static void FreeNode(Node* n) { ::operator delete(n); }

 private:
  static void Init(Buckets* b, size_t size) {
    b->slots = std::make_unique<Node*[]>(size);
    b->mask = size - 1;
    b->used = 0;
  }

  Node** FindLink(std::string_view field, uint64_t hash) {
    for (int i = 0; i < 2; ++i) {
      Buckets& b = t_[i];
      if (b.slots == nullptr) continue;
      for (Node** link = &b.slots[hash & b.mask]; *link != nullptr; link = &(*link)->next) {
        if ((*link)->hash == hash && (*link)->field() == field) return link;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  void StartResize(size_t size) {
    Init(&t_[1], size);
    rehash_index_ = 0;
  }

  // Grows when full (Redis's dict expands at a load factor of 1), to a power of two above used.
  void MaybeGrow() {
    if (rehashing()) return;
    if (t_[0].slots == nullptr) {
      Init(&t_[0], kInitialBuckets);
      return;
    }
    if (t_[0].used >= t_[0].size()) StartResize(BucketsFor(t_[0].used + 1));
  }

  // Redis's htNeedsResize + dictResize after a delete.
  void MaybeShrink() {
    if (rehashing()) return;
    const Buckets& b = t_[0];
    if (b.size() > kInitialBuckets && b.used * 100 / b.size() < kMinFillPercent) {
      size_t target = BucketsFor(std::max(b.used, kInitialBuckets));
      if (target < b.size()) StartResize(target);
    }
  }

  // Moves `buckets` buckets (visiting at most 10x as many empty ones) to the new array.
  void RehashStep(int buckets) {
    if (!rehashing()) return;
    Buckets& from = t_[0];
    Buckets& to = t_[1];
    int empty_visits = buckets * kEmptyVisitsPerStep;
    while (buckets-- > 0 && from.used != 0) {
      while (from.slots[rehash_index_] == nullptr) {
        ++rehash_index_;
        if (--empty_visits == 0) return;
      }
      for (Node* n = from.slots[rehash_index_]; n != nullptr;) {
        Node* next = n->next;
        uint64_t idx = n->hash & to.mask;
        n->next = to.slots[idx];
        to.slots[idx] = n;
        --from.used;
        ++to.used;
        n = next;
      }
      from.slots[rehash_index_] = nullptr;
      ++rehash_index_;
    }
    if (from.used == 0) {
      t_[0] = std::move(t_[1]);
      t_[1] = Buckets{};
      rehash_index_ = -1;
    }
  }

  Buckets t_[2];
  int64_t rehash_index_ = -1;
};

// ---------------------------------------------------------------------------------------------
// HashValue.

HashValue::HashValue() = default;

HashValue::HashValue(const HashValue& other) : lp_(other.lp_), lp_count_(other.lp_count_) {
  if (other.table_ != nullptr) {
    table_ = std::make_unique<Table>();
    table_->Reserve(other.size());
    for (Cursor c(other); !c.Done(); c.Next()) {
      table_->Insert(Table::NewNode(HashField(c.field()), c.field(), c.value()));
    }
  }
}

HashValue::~HashValue() = default;

std::unique_ptr<Collection> HashValue::Clone() const { return std::make_unique<HashValue>(*this); }

const char* HashValue::EncodingName() const { return is_listpack() ? "listpack" : "hashtable"; }

size_t HashValue::size() const { return is_listpack() ? lp_count_ : table_->size(); }

void HashValue::LpAppendString(std::string* buf, std::string_view s) {
  PutVarint(buf, s.size());
  buf->append(s.data(), s.size());
}

bool HashValue::LpRead(size_t pos, LpPair* pair) const {
  std::string_view buf(lp_);
  size_t len;
  pair->start = pos;
  if (!GetVarint(buf, &pos, &len) || len > buf.size() - pos) return false;
  pair->field = buf.substr(pos, len);
  pos += len;
  pair->value_start = pos;
  if (!GetVarint(buf, &pos, &len) || len > buf.size() - pos) return false;
  pair->value = buf.substr(pos, len);
  pair->end = pos + len;
  return true;
}

bool HashValue::LpFind(std::string_view field, LpPair* pair) const {
  for (size_t pos = 0; pos < lp_.size(); pos = pair->end) {
    if (!LpRead(pos, pair)) return false;
    if (pair->field == field) return true;
  }
  return false;
}

std::optional<std::string_view> HashValue::Get(std::string_view field) const {
  if (is_listpack()) {
    LpPair pair;
    if (!LpFind(field, &pair)) return std::nullopt;
    return pair.value;
  }
  const Table::Node* n = table_->Find(field);
  if (n == nullptr) return std::nullopt;
  return n->value();
}

void HashValue::ConvertToHashtable() {
  if (!is_listpack()) return;
  auto table = std::make_unique<Table>();
  table->Reserve(lp_count_);
  LpPair pair;
  for (size_t pos = 0; pos < lp_.size() && LpRead(pos, &pair); pos = pair.end) {
    table->Insert(Table::NewNode(HashField(pair.field), pair.field, pair.value));
  }
  table_ = std::move(table);
  std::string().swap(lp_);
  lp_count_ = 0;
}

void HashValue::PrepareWrite(std::span<const std::string_view> strings, size_t max_value) {
  if (!is_listpack()) return;
  size_t sum = 0;
  for (std::string_view s : strings) {
    if (s.size() > max_value) {
      ConvertToHashtable();
      return;
    }
    sum += s.size();
  }
  if (lp_.size() + sum > kListpackSafetyLimit) ConvertToHashtable();
}

bool HashValue::Set(std::string_view field, std::string_view value, size_t max_entries,
                    size_t max_value) {
  if (is_listpack() && (field.size() > max_value || value.size() > max_value)) {
    ConvertToHashtable();
  }
  if (!is_listpack()) return table_->Set(field, value);
  LpPair pair;
  bool created = !LpFind(field, &pair);
  if (created) {
    LpAppendString(&lp_, field);
    LpAppendString(&lp_, value);
    ++lp_count_;
  } else {
    std::string encoded;
    LpAppendString(&encoded, value);
    lp_.replace(pair.value_start, pair.end - pair.value_start, encoded);
  }
  // Checked after updates too: the limit may have been lowered since the hash was built.
  if (lp_count_ > max_entries) ConvertToHashtable();
  return created;
}

bool HashValue::Delete(std::string_view field) {
  if (!is_listpack()) return table_->Erase(field);
  LpPair pair;
  if (!LpFind(field, &pair)) return false;
  lp_.erase(pair.start, pair.end - pair.start);
  --lp_count_;
  return true;
}

uint64_t HashValue::Scan(uint64_t cursor,
                         const std::function<void(std::string_view, std::string_view)>& fn) const {
  if (!is_listpack()) return table_->Scan(cursor, fn);
  for (Cursor c(*this); !c.Done(); c.Next()) fn(c.field(), c.value());
  return 0;
}

std::pair<std::string_view, std::string_view> HashValue::Random(uint64_t random_bits) const {
  if (empty()) return {};
  if (!is_listpack()) {
    const Table::Node* n = table_->Random(random_bits);
    return {n->field(), n->value()};
  }
  size_t pick = lp_count_ == 0 ? 0 : Mix(random_bits) % lp_count_;
  Cursor c(*this);
  while (pick-- > 0 && !c.Done()) c.Next();
  return {c.field(), c.value()};
}

// ---------------------------------------------------------------------------------------------
// Cursor.

HashValue::Cursor::Cursor(const HashValue& hash) : hash_(hash) { Load(); }

void HashValue::Cursor::Load() {
  if (hash_.is_listpack()) {
    LpPair pair;
    if (pos_ >= hash_.lp_.size() || !hash_.LpRead(pos_, &pair)) {
      done_ = true;
      return;
    }
    field_ = pair.field;
    value_ = pair.value;
    next_pos_ = pair.end;
    return;
  }
  // Advance to the next node: along the chain, else to the next non-empty bucket.
  const Table& t = *hash_.table_;
  while (node_ == nullptr) {
    const Table::Buckets& b = t.buckets(table_);
    if (bucket_ >= b.size()) {
      if (table_ == 1) {
        done_ = true;
        return;
      }
      table_ = 1;
      bucket_ = 0;
      continue;
    }
    node_ = b.slots[bucket_++];
  }
  const auto* n = static_cast<const Table::Node*>(node_);
  field_ = n->field();
  value_ = n->value();
}

void HashValue::Cursor::Next() {
  if (done_) return;
  if (hash_.is_listpack()) {
    pos_ = next_pos_;
  } else {
    node_ = static_cast<const Table::Node*>(node_)->next;
  }
  Load();
}

}  // namespace shardis
