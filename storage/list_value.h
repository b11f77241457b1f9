// ListValue: the list type (LPUSH, LRANGE, BLPOP...), a Collection owned by one keyspace entry
// and used only on the thread of the shard that owns the key.
//
// Layout, after Redis's quicklist: a sequence of nodes, each one contiguous buffer of packed
// entries, the sequence kept in a ring of node headers so a node can be added or dropped at either
// end in O(1). An entry is its length as a LEB128 varint, its bytes, then the same varint with its
// bytes reversed, so a node can be walked both ways (an element shorter than 128 bytes costs two
// bytes of overhead). A node's buffer keeps its free space at the end it grows from, so pushes and
// pops at either end of the list are O(1) amortized; positional operations walk node headers from
// the nearer end, then entries inside one node, as Redis does (O(n)).
//
// Node size follows list-max-listpack-size ("fill"): -1..-5 cap a node at 4/8/16/32/64 KB of
// entries; a positive fill caps the entries per node (with Redis's 8 KB safety limit on bytes).
// An element bigger than the cap gets a node of its own. Nodes that shrink are merged with a
// neighbour when the two fit in one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/value.h"

namespace shardis {

class ListValue final : public Collection {
 public:
  static constexpr int kDefaultFill = -2;  // list-max-listpack-size's default: 8 KB nodes

  explicit ListValue(int fill = kDefaultFill);
  ListValue(const ListValue& other);
  ListValue& operator=(const ListValue&) = delete;
  ~ListValue() override;

  std::unique_ptr<Collection> Clone() const override;
  // Redis 7.0 reports every list as a quicklist.
  const char* EncodingName() const override { return "quicklist"; }
  size_t ElementCount() const override { return size_; }

  // list-max-listpack-size, clamped to Redis's range (-5..32767). Applies to nodes filled from
  // now on; existing nodes stay as they are.
  void set_fill(int fill);
  int fill() const { return fill_; }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t node_count() const { return node_count_; }
  // Bytes allocated for this list (headers, node buffers, ring), for memory accounting.
  size_t AllocatedBytes() const;

  void PushFront(std::string_view value);
  void PushBack(std::string_view value);
  // The first / last element; the list must not be empty. Views stay valid until the next
  // change to the list.
  std::string_view Front() const;
  std::string_view Back() const;
  // Removes the first / last element (the list must not be empty), storing it in *out if given.
  void PopFront(std::string* out = nullptr);
  void PopBack(std::string* out = nullptr);

  // The element at `index` (0 = head; must be < size()).
  std::string_view At(size_t index) const;
  // Replaces the element at `index` (must be < size()).
  void Set(size_t index, std::string_view value);
  // Inserts `value` so that it ends up at `index` (0..size(); size() appends).
  void Insert(size_t index, std::string_view value);
  // Removes the elements [first, first + count) (clipped to the list).
  void Erase(size_t first, size_t count);
  // LREM: removes elements equal to `value`: the first `count` from the head when count > 0, the
  // last -count from the tail when count < 0, every one when count == 0. Returns how many.
  size_t Remove(std::string_view value, int64_t count);
  // Index of the first element equal to `value`, or -1.
  int64_t Find(std::string_view value) const;

  // A read cursor over the elements, either way. Any change to the list invalidates it.
  class Iterator {
   public:
    bool Valid() const { return list_ != nullptr && node_ < list_->node_count_; }
    std::string_view value() const;
    void Next();  // toward the tail; past the last element Valid() turns false
    void Prev();  // toward the head; past the first element Valid() turns false

   private:
    friend class ListValue;
    const ListValue* list_ = nullptr;
    size_t node_ = 0;   // node position in the list
    uint32_t off_ = 0;  // offset of the entry from the node's first entry
  };
  // A cursor on the element at `index` (not Valid() when index >= size()).
  Iterator IteratorAt(size_t index) const;

 private:
  // One node: entries packed in buf[begin, end), free space around them.
  struct Node {
    char* buf = nullptr;
    uint32_t cap = 0;
    uint32_t begin = 0;
    uint32_t end = 0;
    uint32_t count = 0;  // entries
    uint32_t bytes() const { return end - begin; }
    char* data() const { return buf + begin; }
  };
  enum class Grow : uint8_t { kFront, kBack, kMiddle };

  Node& node(size_t i) const { return nodes_[(head_ + i) & (ring_cap_ - 1)]; }
  // Adds an empty node at position `pos` (0..node_count_) and returns it.
  Node& InsertNode(size_t pos);
  // Moves the node headers to a ring of new_cap slots (a power of two >= node_count_).
  void ResizeRing(uint32_t new_cap);
  // Frees and removes the node at `pos`.
  void RemoveNode(size_t pos);
  // Whether a node may take one more entry of `entry_bytes` bytes under the fill rule.
  bool AllowsInsert(const Node& n, uint64_t entry_bytes) const;
  // Whether two nodes' entries fit in one node.
  bool AllowsMerge(const Node& a, const Node& b) const;
  // Opens `need` bytes at content offset `off` of node n and returns where they start.
  char* MakeRoom(Node& n, uint32_t off, uint32_t need, Grow grow);
  // Removes `len` content bytes at offset `off` of node n (the count is the caller's).
  void CutBytes(Node& n, uint32_t off, uint32_t len);
  // Gives memory back when a node's buffer is mostly empty.
  void MaybeShrink(Node& n);
  // Merges node pos+1 into node pos when both fit in one node. Returns true if merged.
  bool TryMergeWithNext(size_t pos);
  // Merges the node at pos with its neighbours where possible.
  void MergeAround(size_t pos);
  // The node and in-node offset of element `index` (< size_).
  void Locate(size_t index, size_t* node_pos, uint32_t* off) const;
  // Writes a new entry into node n at content offset `off`.
  void WriteEntryAt(Node& n, uint32_t off, std::string_view value, Grow grow);

  // The ring of node headers: ring_cap_ (a power of two) slots. A one-node list (the common
  // small list) keeps its header inline, saving an allocation.
  Node* nodes_ = nullptr;
  Node inline_node_;
  uint32_t ring_cap_ = 0;
  uint32_t head_ = 0;  // slot of node 0
  uint32_t node_count_ = 0;
  int fill_ = kDefaultFill;
  size_t size_ = 0;  // elements
};

}  // namespace shardis
