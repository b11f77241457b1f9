// ZSetValue's encodings: the sorted listpack array and the skiplist + hash table (see
// zset_value.h). Shard-thread data, no locking; the skiplist's level generator is per thread.
#include "storage/zset_value.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <utility>

#include "absl/hash/hash.h"

namespace shardis {
namespace zset_internal {

struct Level {
  Node* forward;
  size_t span;  // elements between this node and `forward` at this level (rank distance)
};

// A skiplist node, also a hash table entry; its `height` levels follow it in the same allocation.
struct Node {
  std::string member;
  double score;
  uint64_t hash;
  Node* hash_next;
  Node* backward;
  int height;

  Level* level() { return reinterpret_cast<Level*>(this + 1); }
  const Level* level() const { return reinterpret_cast<const Level*>(this + 1); }
};

}  // namespace zset_internal

namespace {

using zset_internal::Level;
using zset_internal::Node;

constexpr int kMaxLevel = 32;
constexpr size_t kMinBuckets = 4;

Node* NewNode(int height, double score, std::string member, uint64_t hash) {
  void* mem = ::operator new(sizeof(Node) + sizeof(Level) * static_cast<size_t>(height));
  Node* n = new (mem) Node{std::move(member), score, hash, nullptr, nullptr, height};
  for (int i = 0; i < height; ++i) new (&n->level()[i]) Level{nullptr, 0};
  return n;
}

void FreeNode(Node* n) {
  n->~Node();
  ::operator delete(n);
}

// Redis's zslRandomLevel: each extra level with probability 1/4, at most kMaxLevel.
int RandomLevel() {
  thread_local uint64_t state = 0x9E3779B97F4A7C15ull;
  int level = 1;
  while (level < kMaxLevel) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    if ((state & 0xFFFF) >= 0x4000) break;
    ++level;
  }
  return level;
}

uint64_t HashMember(std::string_view member) { return absl::Hash<std::string_view>{}(member); }

uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
  v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFull) | ((v & 0x00FF00FF00FF00FFull) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFull) | ((v & 0x0000FFFF0000FFFFull) << 16);
  return (v >> 32) | (v << 32);
}

// (a_score, a_member) < (b_score, b_member) in sorted-set order.
bool Less(double a_score, std::string_view a_member, double b_score, std::string_view b_member) {
  return a_score < b_score || (a_score == b_score && a_member.compare(b_member) < 0);
}

}  // namespace

namespace zset_internal {

// Redis's zskiplist plus the member -> node dict, sharing nodes.
class Skiplist {
 public:
  Skiplist() : header_(NewNode(kMaxLevel, 0, std::string(), 0)) {}
  ~Skiplist() {
    Node* n = header_->level()[0].forward;
    while (n != nullptr) {
      Node* next = n->level()[0].forward;
      FreeNode(n);
      n = next;
    }
    FreeNode(header_);
  }
  Skiplist(const Skiplist&) = delete;
  Skiplist& operator=(const Skiplist&) = delete;

  size_t size() const { return length_; }
  Node* first() const { return header_->level()[0].forward; }
  Node* last() const { return tail_; }

  Node* Find(std::string_view member) const {
    if (buckets_.empty()) return nullptr;
    uint64_t h = HashMember(member);
    for (Node* n = buckets_[h & (buckets_.size() - 1)]; n != nullptr; n = n->hash_next) {
      if (n->hash == h && n->member == member) return n;
    }
    return nullptr;
  }

  // Inserts a member known to be absent.
  Node* Insert(double score, std::string member) {
    uint64_t h = HashMember(member);
    Node* x = NewNode(RandomLevel(), score, std::move(member), h);
    Link(x);
    HashAdd(x);
    return x;
  }

  void Erase(Node* x) {
    Node* update[kMaxLevel];
    FindUpdate(x->score, x->member, update);
    Unlink(x, update);
    HashRemove(x);
    FreeNode(x);
    MaybeShrink();
  }

  void UpdateScore(Node* x, double score) {
    Node* next = x->level()[0].forward;
    // Same position: update in place (Redis's zslUpdateScore shortcut).
    if ((x->backward == nullptr || x->backward->score < score) &&
        (next == nullptr || next->score > score)) {
      x->score = score;
      return;
    }
    Node* update[kMaxLevel];
    FindUpdate(x->score, x->member, update);
    Unlink(x, update);
    x->score = score;
    for (int i = 0; i < x->height; ++i) x->level()[i] = Level{nullptr, 0};
    x->backward = nullptr;
    Link(x);
  }

  // 1-based rank of a node of this list (Redis's zslGetRank).
  size_t RankOf(const Node* node) const {
    size_t rank = 0;
    const Node* x = header_;
    for (int i = level_ - 1; i >= 0; --i) {
      while (x->level()[i].forward != nullptr &&
             !Less(node->score, node->member, x->level()[i].forward->score,
                   x->level()[i].forward->member)) {
        rank += x->level()[i].span;
        x = x->level()[i].forward;
      }
      if (x == node) return rank;
    }
    return rank;
  }

  // The node at a 1-based rank, or null (Redis's zslGetElementByRank).
  Node* ByRank(size_t rank) const {
    size_t traversed = 0;
    Node* x = header_;
    for (int i = level_ - 1; i >= 0; --i) {
      while (x->level()[i].forward != nullptr && traversed + x->level()[i].span <= rank) {
        traversed += x->level()[i].span;
        x = x->level()[i].forward;
      }
      if (traversed == rank) return x == header_ ? nullptr : x;
    }
    return nullptr;
  }

  // How many leading nodes satisfy `pred`, for a predicate true on a prefix of the order.
  template <typename Pred>
  size_t Prefix(Pred pred) const {
    size_t rank = 0;
    const Node* x = header_;
    for (int i = level_ - 1; i >= 0; --i) {
      while (x->level()[i].forward != nullptr && pred(*x->level()[i].forward)) {
        rank += x->level()[i].span;
        x = x->level()[i].forward;
      }
    }
    return rank;
  }

  // Erases 0-based ranks [begin, end) (Redis's zslDeleteRangeByRank).
  size_t EraseRanks(size_t begin, size_t end) {
    if (end > length_) end = length_;
    if (begin >= end) return 0;
    Node* update[kMaxLevel];
    size_t traversed = 0;
    Node* x = header_;
    for (int i = level_ - 1; i >= 0; --i) {
      while (x->level()[i].forward != nullptr && traversed + x->level()[i].span < begin + 1) {
        traversed += x->level()[i].span;
        x = x->level()[i].forward;
      }
      update[i] = x;
    }
    size_t removed = 0;
    x = x->level()[0].forward;
    for (size_t rank = begin; x != nullptr && rank < end; ++rank) {
      Node* next = x->level()[0].forward;
      Unlink(x, update);
      HashRemove(x);
      FreeNode(x);
      ++removed;
      x = next;
    }
    MaybeShrink();
    return removed;
  }

  uint64_t Scan(uint64_t cursor, const std::function<void(std::string_view, double)>& fn) const {
    if (buckets_.empty()) return 0;
    uint64_t mask = buckets_.size() - 1;
    for (const Node* n = buckets_[cursor & mask]; n != nullptr; n = n->hash_next) {
      fn(n->member, n->score);
    }
    cursor |= ~mask;
    cursor = ReverseBits(cursor);
    ++cursor;
    return ReverseBits(cursor);
  }

 private:
  // update[i]: the last node at level i before the position of (score, member).
  void FindUpdate(double score, std::string_view member, Node** update) const {
    Node* x = header_;
    for (int i = level_ - 1; i >= 0; --i) {
      while (x->level()[i].forward != nullptr &&
             Less(x->level()[i].forward->score, x->level()[i].forward->member, score, member)) {
        x = x->level()[i].forward;
      }
      update[i] = x;
    }
  }

  // Links a detached node at its sorted position (Redis's zslInsert, with the node's own height).
  void Link(Node* x) {
    Node* update[kMaxLevel];
    size_t rank[kMaxLevel];
    Node* p = header_;
    for (int i = level_ - 1; i >= 0; --i) {
      rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
      while (
          p->level()[i].forward != nullptr &&
          Less(p->level()[i].forward->score, p->level()[i].forward->member, x->score, x->member)) {
        rank[i] += p->level()[i].span;
        p = p->level()[i].forward;
      }
      update[i] = p;
    }
    int height = x->height;
    if (height > level_) {
      for (int i = level_; i < height; ++i) {
        rank[i] = 0;
        update[i] = header_;
        header_->level()[i].span = length_;
      }
      level_ = height;
    }
    for (int i = 0; i < height; ++i) {
      x->level()[i].forward = update[i]->level()[i].forward;
      update[i]->level()[i].forward = x;
      x->level()[i].span = update[i]->level()[i].span - (rank[0] - rank[i]);
      update[i]->level()[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = height; i < level_; ++i) ++update[i]->level()[i].span;
    x->backward = update[0] == header_ ? nullptr : update[0];
    if (x->level()[0].forward != nullptr) {
      x->level()[0].forward->backward = x;
    } else {
      tail_ = x;
    }
    ++length_;
  }

  // Redis's zslDeleteNode: detaches x (still allocated, still in the hash table).
  void Unlink(Node* x, Node** update) {
    for (int i = 0; i < level_; ++i) {
      if (update[i]->level()[i].forward == x) {
        update[i]->level()[i].span += x->level()[i].span - 1;
        update[i]->level()[i].forward = x->level()[i].forward;
      } else {
        update[i]->level()[i].span -= 1;
      }
    }
    if (x->level()[0].forward != nullptr) {
      x->level()[0].forward->backward = x->backward;
    } else {
      tail_ = x->backward;
    }
    while (level_ > 1 && header_->level()[level_ - 1].forward == nullptr) --level_;
    --length_;
  }

  void HashAdd(Node* x) {
    if (length_ > buckets_.size()) Rehash(std::max(kMinBuckets, buckets_.size() * 2));
    Node*& head = buckets_[x->hash & (buckets_.size() - 1)];
    x->hash_next = head;
    head = x;
  }

  void HashRemove(Node* x) {
    Node** link = &buckets_[x->hash & (buckets_.size() - 1)];
    while (*link != x) link = &(*link)->hash_next;
    *link = x->hash_next;
    x->hash_next = nullptr;
  }

  void MaybeShrink() {
    if (buckets_.size() <= kMinBuckets || length_ * 8 >= buckets_.size()) return;
    size_t n = kMinBuckets;
    while (n < length_) n *= 2;
    Rehash(n);
  }

  void Rehash(size_t bucket_count) {
    std::vector<Node*> next(bucket_count, nullptr);
    for (Node* head : buckets_) {
      while (head != nullptr) {
        Node* following = head->hash_next;
        Node*& slot = next[head->hash & (bucket_count - 1)];
        head->hash_next = slot;
        slot = head;
        head = following;
      }
    }
    buckets_.swap(next);
  }

  Node* header_;
  Node* tail_ = nullptr;
  size_t length_ = 0;
  int level_ = 1;
  std::vector<Node*> buckets_;  // power-of-two size, or empty
};

}  // namespace zset_internal

using zset_internal::Skiplist;

// ---------------------------------------------------------------------------------------------
// Lexicographic bounds (Redis's sdscmplex and zslLexValueGteMin / zslLexValueLteMax).

bool ZLexGteMin(std::string_view value, const ZLexBound& min) {
  switch (min.kind) {
    case ZLexBound::Kind::kNegInf:
      return true;
    case ZLexBound::Kind::kPosInf:
      return false;
    case ZLexBound::Kind::kValue:
      break;
  }
  int cmp = value.compare(min.value);
  return min.exclusive ? cmp > 0 : cmp >= 0;
}

bool ZLexLteMax(std::string_view value, const ZLexBound& max) {
  switch (max.kind) {
    case ZLexBound::Kind::kNegInf:
      return false;
    case ZLexBound::Kind::kPosInf:
      return true;
    case ZLexBound::Kind::kValue:
      break;
  }
  int cmp = value.compare(max.value);
  return max.exclusive ? cmp < 0 : cmp <= 0;
}

bool ZLexRangeEmpty(const ZLexRange& range) {
  using Kind = ZLexBound::Kind;
  const ZLexBound& a = range.min;
  const ZLexBound& b = range.max;
  int cmp;
  if (a.kind != Kind::kValue && a.kind == b.kind) {
    cmp = 0;
  } else if (a.kind == Kind::kNegInf || b.kind == Kind::kPosInf) {
    cmp = -1;
  } else if (a.kind == Kind::kPosInf || b.kind == Kind::kNegInf) {
    cmp = 1;
  } else {
    cmp = a.value.compare(b.value);
  }
  return cmp > 0 || (cmp == 0 && (a.exclusive || b.exclusive));
}

// ---------------------------------------------------------------------------------------------
// Iterator

std::string_view ZSetValue::Iterator::member() const {
  return node_ != nullptr ? std::string_view(node_->member)
                          : std::string_view(z_->lp_[index_].member);
}

double ZSetValue::Iterator::score() const {
  return node_ != nullptr ? node_->score : z_->lp_[index_].score;
}

void ZSetValue::Iterator::Next() {
  if (!valid_) return;
  if (node_ != nullptr) {
    node_ = node_->level()[0].forward;
    valid_ = node_ != nullptr;
  } else {
    ++index_;
    valid_ = index_ < z_->lp_.size();
  }
}

void ZSetValue::Iterator::Prev() {
  if (!valid_) return;
  if (node_ != nullptr) {
    node_ = node_->backward;
    valid_ = node_ != nullptr;
  } else if (index_ == 0) {
    valid_ = false;
  } else {
    --index_;
  }
}

// ---------------------------------------------------------------------------------------------
// ZSetValue

ZSetValue::ZSetValue() = default;

ZSetValue::ZSetValue(const ZSetValue& other) : lp_(other.lp_) {
  if (other.sl_) {
    sl_ = std::make_unique<Skiplist>();
    for (const Node* n = other.sl_->first(); n != nullptr; n = n->level()[0].forward) {
      sl_->Insert(n->score, n->member);
    }
  }
}

ZSetValue::~ZSetValue() = default;

std::unique_ptr<ZSetValue> ZSetValue::FromSorted(std::vector<ZEntry> entries,
                                                 const ZSetLimits& limits) {
  auto z = std::make_unique<ZSetValue>();
  size_t max_len = 0;
  for (const ZEntry& e : entries) max_len = std::max(max_len, e.member.size());
  if (limits.FitsListpack(entries.size(), max_len)) {
    z->lp_.reserve(entries.size());
    for (ZEntry& e : entries) {
      z->lp_.push_back(ListpackEntry{std::move(e.member), ListpackScore(e.score)});
    }
  } else {
    z->sl_ = std::make_unique<Skiplist>();
    for (ZEntry& e : entries) z->sl_->Insert(e.score, std::move(e.member));
  }
  return z;
}

size_t ZSetValue::size() const { return sl_ ? sl_->size() : lp_.size(); }

size_t ZSetValue::ListpackFind(std::string_view member) const {
  for (size_t i = 0; i < lp_.size(); ++i) {
    if (lp_[i].member == member) return i;
  }
  return lp_.size();
}

void ZSetValue::ListpackInsert(double score, std::string_view member) {
  auto pos =
      std::lower_bound(lp_.begin(), lp_.end(), std::pair<double, std::string_view>(score, member),
                       [](const ListpackEntry& e, const std::pair<double, std::string_view>& k) {
                         return Less(e.score, e.member, k.first, k.second);
                       });
  lp_.insert(pos, ListpackEntry{std::string(member), ListpackScore(score)});
}

bool ZSetValue::Score(std::string_view member, double* score) const {
  if (sl_) {
    const Node* n = sl_->Find(member);
    if (n == nullptr) return false;
    *score = n->score;
    return true;
  }
  size_t i = ListpackFind(member);
  if (i == lp_.size()) return false;
  *score = lp_[i].score;
  return true;
}

bool ZSetValue::Rank(std::string_view member, size_t* rank) const {
  if (sl_) {
    const Node* n = sl_->Find(member);
    if (n == nullptr) return false;
    *rank = sl_->RankOf(n) - 1;
    return true;
  }
  size_t i = ListpackFind(member);
  if (i == lp_.size()) return false;
  *rank = i;
  return true;
}

ZSetValue::Iterator ZSetValue::At(size_t rank) const {
  Iterator it;
  it.z_ = this;
  if (rank >= size()) return it;
  it.valid_ = true;
  if (sl_) {
    it.node_ = sl_->ByRank(rank + 1);
  } else {
    it.index_ = rank;
  }
  return it;
}

void ZSetValue::ConvertToSkiplist() {
  if (sl_) return;
  auto sl = std::make_unique<Skiplist>();
  for (ListpackEntry& e : lp_) sl->Insert(e.score, std::move(e.member));
  lp_.clear();
  lp_.shrink_to_fit();
  sl_ = std::move(sl);
}

ZAddResult ZSetValue::Add(double score, std::string_view member, int flags,
                          const ZSetLimits& limits, double* new_score) {
  const bool incr = flags & kZAddIncr;
  const bool nx = flags & kZAddNx;
  const bool xx = flags & kZAddXx;
  const bool gt = flags & kZAddGt;
  const bool lt = flags & kZAddLt;
  if (std::isnan(score)) return ZAddResult::kNaN;

  double current = 0;
  size_t lp_index = lp_.size();
  Node* node = nullptr;
  bool exists;
  if (sl_) {
    node = sl_->Find(member);
    exists = node != nullptr;
    if (exists) current = node->score;
  } else {
    lp_index = ListpackFind(member);
    exists = lp_index < lp_.size();
    if (exists) current = lp_[lp_index].score;
  }

  if (exists) {
    if (nx) return ZAddResult::kNop;
    if (incr) {
      score += current;
      if (std::isnan(score)) return ZAddResult::kNaN;
    }
    if ((lt && score >= current) || (gt && score <= current)) return ZAddResult::kNop;
    *new_score = score;
    if (score == current) return ZAddResult::kUnchanged;
    if (sl_) {
      sl_->UpdateScore(node, score);
    } else {
      std::string owned = std::move(lp_[lp_index].member);
      lp_.erase(lp_.begin() + static_cast<ptrdiff_t>(lp_index));
      ListpackInsert(score, owned);
    }
    return ZAddResult::kUpdated;
  }
  if (xx) return ZAddResult::kNop;
  if (!sl_ && !limits.FitsListpack(lp_.size() + 1, member.size())) ConvertToSkiplist();
  if (sl_) {
    sl_->Insert(score, std::string(member));
  } else {
    ListpackInsert(score, member);
  }
  *new_score = score;
  return ZAddResult::kAdded;
}

bool ZSetValue::Remove(std::string_view member) {
  if (sl_) {
    Node* n = sl_->Find(member);
    if (n == nullptr) return false;
    sl_->Erase(n);
    return true;
  }
  size_t i = ListpackFind(member);
  if (i == lp_.size()) return false;
  lp_.erase(lp_.begin() + static_cast<ptrdiff_t>(i));
  return true;
}

size_t ZSetValue::RemoveRanks(ZRankSpan span) {
  size_t end = std::min(span.end, size());
  if (span.begin >= end) return 0;
  if (sl_) return sl_->EraseRanks(span.begin, end);
  lp_.erase(lp_.begin() + static_cast<ptrdiff_t>(span.begin),
            lp_.begin() + static_cast<ptrdiff_t>(end));
  return end - span.begin;
}

std::vector<ZEntry> ZSetValue::Pop(size_t count, bool from_max) {
  size_t n = std::min(count, size());
  std::vector<ZEntry> out;
  out.reserve(n);
  if (n == 0) return out;
  size_t len = size();
  if (from_max) {
    Iterator it = At(len - 1);
    for (size_t i = 0; i < n; ++i, it.Prev()) out.push_back({std::string(it.member()), it.score()});
    RemoveRanks({len - n, len});
  } else {
    Iterator it = At(0);
    for (size_t i = 0; i < n; ++i, it.Next()) out.push_back({std::string(it.member()), it.score()});
    RemoveRanks({0, n});
  }
  return out;
}

size_t ZSetValue::CountBelow(double score, bool inclusive) const {
  if (sl_) {
    return sl_->Prefix(
        [&](const Node& n) { return n.score < score || (inclusive && n.score == score); });
  }
  auto it = std::partition_point(lp_.begin(), lp_.end(), [&](const ListpackEntry& e) {
    return e.score < score || (inclusive && e.score == score);
  });
  return static_cast<size_t>(it - lp_.begin());
}

ZRankSpan ZSetValue::ScoreSpan(const ZScoreRange& range) const {
  ZRankSpan span;
  span.begin = CountBelow(range.min, range.minex);
  span.end = CountBelow(range.max, !range.maxex);
  if (span.end < span.begin) span.end = span.begin;
  return span;
}

ZRankSpan ZSetValue::LexSpan(const ZLexRange& range, bool reverse) const {
  ZRankSpan none;
  size_t n = size();
  if (n == 0 || ZLexRangeEmpty(range)) return none;
  // Redis's zzlIsInLexRange / zslIsInLexRange: the last element must reach min and the first
  // must not pass max.
  if (!ZLexGteMin(At(n - 1).member(), range.min) || !ZLexLteMax(At(0).member(), range.max)) {
    return none;
  }
  if (sl_) {
    size_t begin =
        sl_->Prefix([&](const Node& node) { return !ZLexGteMin(node.member, range.min); });
    size_t end = sl_->Prefix([&](const Node& node) { return ZLexLteMax(node.member, range.max); });
    return end > begin ? ZRankSpan{begin, end} : none;
  }
  if (!reverse) {
    // zzlFirstInLexRange, then forward while <= max.
    size_t i = 0;
    while (i < n && !ZLexGteMin(lp_[i].member, range.min)) ++i;
    if (i == n || !ZLexLteMax(lp_[i].member, range.max)) return none;
    size_t j = i;
    while (j < n && ZLexLteMax(lp_[j].member, range.max)) ++j;
    return ZRankSpan{i, j};
  }
  // zzlLastInLexRange, then backward while >= min.
  size_t i = n;
  while (i > 0 && !ZLexLteMax(lp_[i - 1].member, range.max)) --i;
  if (i == 0 || !ZLexGteMin(lp_[i - 1].member, range.min)) return none;
  size_t j = i - 1;
  while (j > 0 && ZLexGteMin(lp_[j - 1].member, range.min)) --j;
  return ZRankSpan{j, i};
}

uint64_t ZSetValue::Scan(uint64_t cursor,
                         const std::function<void(std::string_view, double)>& fn) const {
  if (sl_) return sl_->Scan(cursor, fn);
  for (const ListpackEntry& e : lp_) fn(e.member, e.score);
  return 0;
}

std::unique_ptr<Collection> ZSetValue::Clone() const { return std::make_unique<ZSetValue>(*this); }

const char* ZSetValue::EncodingName() const { return sl_ ? "skiplist" : "listpack"; }

}  // namespace shardis
