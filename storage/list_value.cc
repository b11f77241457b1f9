// ListValue: the chunked list of packed entries behind the list commands (see list_value.h).
// Used only on the thread of the shard that owns the key.
#include "storage/list_value.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace shardis {
namespace {

// Node byte caps for list-max-listpack-size -1..-5 (Redis's optimization_level).
constexpr uint32_t kNodeLevels[] = {4096, 8192, 16384, 32768, 65536};
// Redis's SIZE_SAFETY_LIMIT: the byte cap of a node under a positive (count) fill.
constexpr uint32_t kSafetyLimit = 8192;
constexpr int kMinFill = -5;
constexpr int kMaxFill = (1 << 15) - 1;  // Redis's FILL_MAX
// A node buffer this big that is less than a quarter used is reallocated smaller.
constexpr uint32_t kShrinkAbove = 256;

uint32_t VarLen(uint64_t v) {
  uint32_t n = 1;
  while (v >= 128) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint64_t EntrySize(size_t len) { return 2 * VarLen(len) + len; }

// Writes [varint len][bytes][varint len reversed] at p.
void EncodeEntry(char* p, std::string_view v) {
  auto* u = reinterpret_cast<unsigned char*>(p);
  uint32_t h = VarLen(v.size());
  uint64_t x = v.size();
  for (uint32_t i = 0; i < h; ++i) {
    u[i] = static_cast<unsigned char>((x & 127) | (i + 1 < h ? 128 : 0));
    x >>= 7;
  }
  if (!v.empty()) std::memcpy(p + h, v.data(), v.size());
  for (uint32_t i = 0; i < h; ++i) u[h + v.size() + i] = u[h - 1 - i];
}

// The entry starting at p: its element and its total encoded size.
std::string_view DecodeForward(const char* p, uint32_t* entry_size) {
  auto* u = reinterpret_cast<const unsigned char*>(p);
  uint64_t len = 0;
  uint32_t i = 0;
  int shift = 0;
  bool more = true;
  while (more) {
    len |= static_cast<uint64_t>(u[i] & 127) << shift;
    more = (u[i] & 128) != 0;
    shift += 7;
    ++i;
  }
  *entry_size = static_cast<uint32_t>(2 * i + len);
  return std::string_view(p + i, len);
}

// The total encoded size of the entry ending right before `end`.
uint32_t SizeBackward(const char* end) {
  auto* u = reinterpret_cast<const unsigned char*>(end);
  uint64_t len = 0;
  uint32_t i = 1;
  int shift = 0;
  bool more = true;
  while (more) {
    unsigned char b = *(u - i);
    len |= static_cast<uint64_t>(b & 127) << shift;
    more = (b & 128) != 0;
    shift += 7;
    ++i;
  }
  uint32_t h = i - 1;
  return static_cast<uint32_t>(2 * h + len);
}

char* Allocate(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<char*>(p);
}

}  // namespace

ListValue::ListValue(int fill) { set_fill(fill); }

ListValue::ListValue(const ListValue& other)
    : node_count_(other.node_count_), fill_(other.fill_), size_(other.size_) {
  if (node_count_ == 0) return;
  ring_cap_ = 1;
  while (ring_cap_ < node_count_) ring_cap_ *= 2;
  nodes_ = ring_cap_ == 1 ? &inline_node_ : new Node[ring_cap_];
  for (size_t i = 0; i < node_count_; ++i) {
    const Node& src = other.node(i);
    Node& dst = nodes_[i];
    dst.buf = Allocate(src.bytes());
    dst.cap = src.bytes();
    dst.begin = 0;
    dst.end = src.bytes();
    dst.count = src.count;
    std::memcpy(dst.buf, src.data(), src.bytes());
  }
}

ListValue::~ListValue() {
  for (size_t i = 0; i < node_count_; ++i) std::free(node(i).buf);
  if (nodes_ != &inline_node_) delete[] nodes_;
}

std::unique_ptr<Collection> ListValue::Clone() const { return std::make_unique<ListValue>(*this); }

void ListValue::set_fill(int fill) { fill_ = std::clamp(fill, kMinFill, kMaxFill); }

size_t ListValue::AllocatedBytes() const {
  size_t total = sizeof(*this);
  if (nodes_ != &inline_node_) total += static_cast<size_t>(ring_cap_) * sizeof(Node);
  for (size_t i = 0; i < node_count_; ++i) total += node(i).cap;
  return total;
}

// ---- Nodes ----

void ListValue::ResizeRing(uint32_t new_cap) {
  Node* ring = new Node[new_cap];
  for (size_t i = 0; i < node_count_; ++i) ring[i] = node(i);
  if (nodes_ != &inline_node_) delete[] nodes_;
  nodes_ = ring;
  ring_cap_ = new_cap;
  head_ = 0;
}

ListValue::Node& ListValue::InsertNode(size_t pos) {
  if (ring_cap_ == 0) {
    nodes_ = &inline_node_;
    ring_cap_ = 1;
    head_ = 0;
  } else if (node_count_ == ring_cap_) {
    ResizeRing(ring_cap_ * 2);
  }
  if (pos < node_count_ - pos) {
    head_ = (head_ - 1) & (ring_cap_ - 1);
    for (size_t i = 0; i < pos; ++i) node(i) = node(i + 1);
  } else {
    for (size_t i = node_count_; i > pos; --i) node(i) = node(i - 1);
  }
  ++node_count_;
  Node& n = node(pos);
  n = Node{};
  return n;
}

void ListValue::RemoveNode(size_t pos) {
  std::free(node(pos).buf);
  if (pos < node_count_ - 1 - pos) {
    for (size_t i = pos; i > 0; --i) node(i) = node(i - 1);
    head_ = (head_ + 1) & (ring_cap_ - 1);
  } else {
    for (size_t i = pos; i + 1 < node_count_; ++i) node(i) = node(i + 1);
  }
  --node_count_;
  if (ring_cap_ > 4 && node_count_ * 4 <= ring_cap_) ResizeRing(ring_cap_ / 2);
}

bool ListValue::AllowsInsert(const Node& n, uint64_t entry_bytes) const {
  if (n.count == 0) return true;
  uint64_t new_size = static_cast<uint64_t>(n.bytes()) + entry_bytes;
  if (fill_ < 0) return new_size <= kNodeLevels[-fill_ - 1];
  return new_size <= kSafetyLimit && n.count < static_cast<uint32_t>(fill_);
}

bool ListValue::AllowsMerge(const Node& a, const Node& b) const {
  uint64_t bytes = static_cast<uint64_t>(a.bytes()) + b.bytes();
  if (fill_ < 0) return bytes <= kNodeLevels[-fill_ - 1];
  return bytes <= kSafetyLimit &&
         static_cast<uint64_t>(a.count) + b.count <= static_cast<uint64_t>(std::max(fill_, 1));
}

char* ListValue::MakeRoom(Node& n, uint32_t off, uint32_t need, Grow grow) {
  uint32_t bytes = n.bytes();
  if (off == 0 && n.begin >= need) {
    n.begin -= need;
    return n.buf + n.begin;
  }
  if (off == bytes && n.cap - n.end >= need) {
    char* p = n.buf + n.end;
    n.end += need;
    return p;
  }
  // Room in the middle: move the shorter side when the space is there.
  bool front_shorter = off < bytes - off;
  if (front_shorter && n.begin >= need) {
    std::memmove(n.buf + n.begin - need, n.buf + n.begin, off);
    n.begin -= need;
    return n.buf + n.begin + off;
  }
  if (n.cap - n.end >= need) {
    std::memmove(n.buf + n.begin + off + need, n.buf + n.begin + off, bytes - off);
    n.end += need;
    return n.buf + n.begin + off;
  }
  if (n.begin >= need) {
    std::memmove(n.buf + n.begin - need, n.buf + n.begin, off);
    n.begin -= need;
    return n.buf + n.begin + off;
  }
  // A new buffer, with spare room where the node grows.
  uint64_t total = static_cast<uint64_t>(bytes) + need;
  uint64_t limit = fill_ < 0 ? kNodeLevels[-fill_ - 1] : kSafetyLimit;
  uint64_t cap = total + std::max<uint64_t>(total / 2, 8);
  if (cap > limit) cap = std::max(limit, total);
  if (cap < n.cap && total <= n.cap) cap = n.cap;
  uint64_t slack = cap - total;
  uint64_t begin = grow == Grow::kFront ? slack : grow == Grow::kBack ? 0 : slack / 2;
  char* buf = Allocate(cap);
  if (n.buf != nullptr) {
    std::memcpy(buf + begin, n.buf + n.begin, off);
    std::memcpy(buf + begin + off + need, n.buf + n.begin + off, bytes - off);
    std::free(n.buf);
  }
  n.buf = buf;
  n.cap = static_cast<uint32_t>(cap);
  n.begin = static_cast<uint32_t>(begin);
  n.end = static_cast<uint32_t>(begin + total);
  return n.buf + begin + off;
}

void ListValue::CutBytes(Node& n, uint32_t off, uint32_t len) {
  uint32_t bytes = n.bytes();
  if (off == 0) {
    n.begin += len;
  } else if (off + len == bytes) {
    n.end -= len;
  } else if (off < bytes - off - len) {
    std::memmove(n.buf + n.begin + len, n.buf + n.begin, off);
    n.begin += len;
  } else {
    std::memmove(n.buf + n.begin + off, n.buf + n.begin + off + len, bytes - off - len);
    n.end -= len;
  }
}

void ListValue::MaybeShrink(Node& n) {
  uint32_t bytes = n.bytes();
  if (n.cap <= kShrinkAbove || bytes >= n.cap / 4) return;
  uint32_t cap = std::max<uint32_t>(bytes * 2, 32);
  uint32_t begin = (cap - bytes) / 2;
  char* buf = Allocate(cap);
  std::memcpy(buf + begin, n.buf + n.begin, bytes);
  std::free(n.buf);
  n.buf = buf;
  n.cap = cap;
  n.begin = begin;
  n.end = begin + bytes;
}

bool ListValue::TryMergeWithNext(size_t pos) {
  if (pos + 1 >= node_count_) return false;
  Node& a = node(pos);
  Node& b = node(pos + 1);
  if (!AllowsMerge(a, b)) return false;
  if (a.bytes() >= b.bytes()) {
    char* p = MakeRoom(a, a.bytes(), b.bytes(), Grow::kBack);
    std::memcpy(p, b.data(), b.bytes());
    a.count += b.count;
    RemoveNode(pos + 1);
  } else {
    char* p = MakeRoom(b, 0, a.bytes(), Grow::kFront);
    std::memcpy(p, a.data(), a.bytes());
    b.count += a.count;
    RemoveNode(pos);
  }
  return true;
}

void ListValue::MergeAround(size_t pos) {
  if (pos < node_count_) TryMergeWithNext(pos);
  if (pos > 0 && pos - 1 < node_count_) TryMergeWithNext(pos - 1);
}

void ListValue::Locate(size_t index, size_t* node_pos, uint32_t* off) const {
  size_t pos = 0;
  size_t local = 0;
  if (index < size_ / 2) {
    while (index >= node(pos).count) {
      index -= node(pos).count;
      ++pos;
    }
    local = index;
  } else {
    pos = node_count_ - 1;
    size_t from_end = size_ - 1 - index;
    while (from_end >= node(pos).count) {
      from_end -= node(pos).count;
      --pos;
    }
    local = node(pos).count - 1 - from_end;
  }
  const Node& n = node(pos);
  uint32_t o = 0;
  if (local < n.count / 2) {
    for (size_t k = 0; k < local; ++k) {
      uint32_t esz = 0;
      DecodeForward(n.data() + o, &esz);
      o += esz;
    }
  } else {
    o = n.bytes();
    for (size_t k = n.count; k > local; --k) o -= SizeBackward(n.data() + o);
  }
  *node_pos = pos;
  *off = o;
}

void ListValue::WriteEntryAt(Node& n, uint32_t off, std::string_view value, Grow grow) {
  uint32_t esz = static_cast<uint32_t>(EntrySize(value.size()));
  EncodeEntry(MakeRoom(n, off, esz, grow), value);
  ++n.count;
  ++size_;
}

// ---- Ends ----

void ListValue::PushFront(std::string_view value) {
  uint64_t esz = EntrySize(value.size());
  if (node_count_ == 0 || !AllowsInsert(node(0), esz)) InsertNode(0);
  WriteEntryAt(node(0), 0, value, Grow::kFront);
}

void ListValue::PushBack(std::string_view value) {
  uint64_t esz = EntrySize(value.size());
  if (node_count_ == 0 || !AllowsInsert(node(node_count_ - 1), esz)) InsertNode(node_count_);
  Node& n = node(node_count_ - 1);
  WriteEntryAt(n, n.bytes(), value, Grow::kBack);
}

std::string_view ListValue::Front() const {
  uint32_t esz = 0;
  return DecodeForward(node(0).data(), &esz);
}

std::string_view ListValue::Back() const {
  const Node& n = node(node_count_ - 1);
  uint32_t esz = SizeBackward(n.data() + n.bytes());
  return DecodeForward(n.data() + n.bytes() - esz, &esz);
}

void ListValue::PopFront(std::string* out) {
  Node& n = node(0);
  uint32_t esz = 0;
  std::string_view v = DecodeForward(n.data(), &esz);
  if (out != nullptr) out->assign(v.data(), v.size());
  n.begin += esz;
  --n.count;
  --size_;
  if (n.count == 0) {
    RemoveNode(0);
  } else {
    MaybeShrink(n);
  }
}

void ListValue::PopBack(std::string* out) {
  size_t pos = node_count_ - 1;
  Node& n = node(pos);
  uint32_t esz = SizeBackward(n.data() + n.bytes());
  if (out != nullptr) {
    std::string_view v = DecodeForward(n.data() + n.bytes() - esz, &esz);
    out->assign(v.data(), v.size());
  }
  n.end -= esz;
  --n.count;
  --size_;
  if (n.count == 0) {
    RemoveNode(pos);
  } else {
    MaybeShrink(n);
  }
}

// ---- Positions ----

std::string_view ListValue::At(size_t index) const {
  size_t pos = 0;
  uint32_t off = 0;
  Locate(index, &pos, &off);
  uint32_t esz = 0;
  return DecodeForward(node(pos).data() + off, &esz);
}

void ListValue::Set(size_t index, std::string_view value) {
  size_t pos = 0;
  uint32_t off = 0;
  Locate(index, &pos, &off);
  Node& n = node(pos);
  uint32_t old_size = 0;
  DecodeForward(n.data() + off, &old_size);
  uint64_t new_size = EntrySize(value.size());
  if (new_size == old_size) {
    EncodeEntry(n.data() + off, value);
    return;
  }
  uint64_t bytes = static_cast<uint64_t>(n.bytes()) - old_size + new_size;
  uint64_t limit = fill_ < 0 ? kNodeLevels[-fill_ - 1] : kSafetyLimit;
  if (n.count == 1 || bytes <= limit) {
    CutBytes(n, off, old_size);
    --n.count;
    --size_;
    WriteEntryAt(n, off, value, Grow::kMiddle);
    if (new_size < old_size) MaybeShrink(n);
    return;
  }
  Erase(index, 1);
  Insert(index, value);
}

void ListValue::Insert(size_t index, std::string_view value) {
  if (index >= size_) {
    PushBack(value);
    return;
  }
  if (index == 0) {
    PushFront(value);
    return;
  }
  uint64_t esz = EntrySize(value.size());
  size_t pos = 0;
  uint32_t off = 0;
  Locate(index, &pos, &off);
  if (AllowsInsert(node(pos), esz)) {
    WriteEntryAt(node(pos), off, value, Grow::kMiddle);
    return;
  }
  if (off == 0) {
    // Between two nodes: the end of the previous one, else a node of its own.
    Node& prev = node(pos - 1);
    if (AllowsInsert(prev, esz)) {
      WriteEntryAt(prev, prev.bytes(), value, Grow::kBack);
    } else {
      WriteEntryAt(InsertNode(pos), 0, value, Grow::kBack);
      MergeAround(pos);
    }
    return;
  }
  // Split the node at the insertion point; the element joins whichever half has room.
  uint32_t local = 0;
  for (uint32_t o = 0; o < off; ++local) {
    uint32_t s = 0;
    DecodeForward(node(pos).data() + o, &s);
    o += s;
  }
  Node& right = InsertNode(pos + 1);
  Node& left = node(pos);
  uint32_t right_bytes = left.bytes() - off;
  right.buf = Allocate(right_bytes);
  right.cap = right_bytes;
  right.begin = 0;
  right.end = right_bytes;
  right.count = left.count - local;
  std::memcpy(right.buf, left.data() + off, right_bytes);
  left.end = left.begin + off;
  left.count = local;
  if (AllowsInsert(left, esz)) {
    WriteEntryAt(left, left.bytes(), value, Grow::kBack);
  } else if (AllowsInsert(right, esz)) {
    WriteEntryAt(right, 0, value, Grow::kFront);
  } else {
    WriteEntryAt(InsertNode(pos + 1), 0, value, Grow::kBack);
  }
  MaybeShrink(node(pos));
}

void ListValue::Erase(size_t first, size_t count) {
  if (first >= size_ || count == 0) return;
  count = std::min(count, size_ - first);
  if (count == size_) {
    for (size_t i = 0; i < node_count_; ++i) std::free(node(i).buf);
    node_count_ = 0;
    head_ = 0;
    size_ = 0;
    return;
  }
  size_t pos = 0;
  uint32_t off = 0;
  Locate(first, &pos, &off);
  size_t start_pos = pos;
  while (count > 0) {
    Node& n = node(pos);
    if (off == 0 && count >= n.count) {
      count -= n.count;
      size_ -= n.count;
      RemoveNode(pos);
      continue;
    }
    uint32_t len = 0;
    uint32_t k = 0;
    while (k < count && off + len < n.bytes()) {
      uint32_t s = 0;
      DecodeForward(n.data() + off + len, &s);
      len += s;
      ++k;
    }
    CutBytes(n, off, len);
    n.count -= k;
    size_ -= k;
    count -= k;
    MaybeShrink(n);
    ++pos;
    off = 0;
  }
  MergeAround(start_pos);
}

size_t ListValue::Remove(std::string_view value, int64_t count) {
  uint64_t limit = count == 0  ? UINT64_MAX
                   : count > 0 ? static_cast<uint64_t>(count)
                               : 0 - static_cast<uint64_t>(count);
  bool from_tail = count < 0;
  uint64_t removed = 0;
  std::vector<uint32_t> doomed;  // from the tail: offsets to drop in the current node
  for (size_t step = 0, n_nodes = node_count_; step < n_nodes && removed < limit; ++step) {
    size_t pos = from_tail ? n_nodes - 1 - step : step - (n_nodes - node_count_);
    Node& n = node(pos);
    doomed.clear();
    if (from_tail) {
      uint32_t o = n.bytes();
      while (o > 0 && removed + doomed.size() < limit) {
        uint32_t s = SizeBackward(n.data() + o);
        o -= s;
        uint32_t esz = 0;
        if (DecodeForward(n.data() + o, &esz) == value) doomed.push_back(o);
      }
      if (doomed.empty()) continue;
      std::reverse(doomed.begin(), doomed.end());
    }
    // Compact the node, dropping the chosen (tail) or the first matching (head) entries.
    uint32_t w = 0;
    uint32_t k = 0;
    size_t next_doomed = 0;
    char* data = n.data();
    for (uint32_t r = 0; r < n.bytes();) {
      uint32_t esz = 0;
      std::string_view v = DecodeForward(data + r, &esz);
      bool drop = from_tail ? (next_doomed < doomed.size() && doomed[next_doomed] == r)
                            : (removed + k < limit && v == value);
      if (drop) {
        ++k;
        if (from_tail) ++next_doomed;
      } else {
        if (w != r) std::memmove(data + w, data + r, esz);
        w += esz;
      }
      r += esz;
    }
    if (k == 0) continue;
    n.end = n.begin + w;
    n.count -= k;
    size_ -= k;
    removed += k;
    if (n.count == 0) {
      RemoveNode(pos);
    } else {
      MaybeShrink(n);
    }
  }
  if (removed > 0) {
    for (size_t pos = 0; pos + 1 < node_count_;) {
      if (!TryMergeWithNext(pos)) ++pos;
    }
  }
  return removed;
}

int64_t ListValue::Find(std::string_view value) const {
  int64_t index = 0;
  for (Iterator it = IteratorAt(0); it.Valid(); it.Next(), ++index) {
    if (it.value() == value) return index;
  }
  return -1;
}

// ---- Iterator ----

ListValue::Iterator ListValue::IteratorAt(size_t index) const {
  Iterator it;
  it.list_ = this;
  if (index >= size_) {
    it.node_ = node_count_;
    return it;
  }
  Locate(index, &it.node_, &it.off_);
  return it;
}

std::string_view ListValue::Iterator::value() const {
  uint32_t esz = 0;
  return DecodeForward(list_->node(node_).data() + off_, &esz);
}

void ListValue::Iterator::Next() {
  const Node& n = list_->node(node_);
  uint32_t esz = 0;
  DecodeForward(n.data() + off_, &esz);
  off_ += esz;
  if (off_ >= n.bytes()) {
    ++node_;
    off_ = 0;
  }
}

void ListValue::Iterator::Prev() {
  if (off_ == 0) {
    if (node_ == 0) {
      node_ = list_->node_count_;
      return;
    }
    --node_;
    off_ = list_->node(node_).bytes();
  }
  off_ -= SizeBackward(list_->node(node_).data() + off_);
}

}  // namespace shardis
