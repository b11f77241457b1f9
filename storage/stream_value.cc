// StreamValue: stream entries in nodes of packed, delta-encoded entries (see stream_value.h).
// Runs on the owning shard's thread only.
//
// Packed entry layout inside Node::data:
//   flags (1 byte: kDeletedFlag, kSameFieldsFlag)
//   varint  ms - master.ms
//   varint  seq
//   [varint field count]                      unless kSameFieldsFlag
//   per pair: [varint len, field bytes]       unless kSameFieldsFlag
//             varint len, value bytes
// Alongside, each node tracks the byte size Redis's listpack encoding of the same entries would
// have, because Redis starts a new node when that size reaches stream-node-max-bytes.
#include "storage/stream_value.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace shardis {
namespace {

using stream_internal::Node;

constexpr uint8_t kDeletedFlag = 1;     // STREAM_ITEM_FLAG_DELETED
constexpr uint8_t kSameFieldsFlag = 2;  // STREAM_ITEM_FLAG_SAMEFIELDS
// STREAM_LISTPACK_MAX_SIZE: the most a node (and one entry's fields and values) may take.
constexpr uint64_t kListpackMaxSize = 1u << 30;
// An empty listpack: the 6-byte header and the end byte.
constexpr size_t kListpackEmptyBytes = 7;

// ---- Listpack size emulation (listpack.c: lpEncodeGetType, lpEncodeBacklen) ----

size_t BacklenBytes(uint64_t encoded_len) {
  if (encoded_len <= 127) return 1;
  if (encoded_len < 16383) return 2;
  if (encoded_len < 2097151) return 3;
  if (encoded_len < 268435455) return 4;
  return 5;
}

size_t ListpackIntBytes(int64_t v) {
  size_t enc;
  if (v >= 0 && v <= 127) {
    enc = 1;
  } else if (v >= -4096 && v <= 4095) {
    enc = 2;
  } else if (v >= -32768 && v <= 32767) {
    enc = 3;
  } else if (v >= -8388608 && v <= 8388607) {
    enc = 4;
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    enc = 5;
  } else {
    enc = 9;
  }
  return enc + BacklenBytes(enc);
}

// A string element: stored as an integer when it is one in canonical form (lpStringToInt64).
size_t ListpackStringBytes(std::string_view s) {
  int64_t v;
  if (IsCanonicalInt(s, &v)) return ListpackIntBytes(v);
  uint64_t enc;
  if (s.size() < 64) {
    enc = 1 + s.size();
  } else if (s.size() < 4096) {
    enc = 2 + s.size();
  } else {
    enc = 5 + s.size();
  }
  return enc + BacklenBytes(enc);
}

// ---- Packed entries ----

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t GetVarint(const char*& p) {
  uint64_t v = 0;
  int shift = 0;
  while (true) {
    uint8_t b = static_cast<uint8_t>(*p++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
    shift += 7;
  }
}

size_t EntryCount(const Node& node) { return node.offsets.size(); }

StreamId IdAt(const Node& node, StreamId master, size_t index) {
  const char* p = node.data.data() + node.offsets[index] + 1;
  uint64_t ms_delta = GetVarint(p);
  uint64_t seq = GetVarint(p);
  return StreamId{master.ms + ms_delta, seq};
}

bool DeletedAt(const Node& node, size_t index) {
  return (static_cast<uint8_t>(node.data[node.offsets[index]]) & kDeletedFlag) != 0;
}

void MarkDeleted(Node* node, size_t index) {
  char& flags = node->data[node->offsets[index]];
  flags = static_cast<char>(static_cast<uint8_t>(flags) | kDeletedFlag);
}

// Decodes the fields and values of the entry at `index` into `out` (views into the node).
void DecodeFields(const Node& node, size_t index, std::vector<std::string_view>* out) {
  out->clear();
  const char* p = node.data.data() + node.offsets[index];
  uint8_t flags = static_cast<uint8_t>(*p++);
  GetVarint(p);  // ms delta
  GetVarint(p);  // seq
  if (flags & kSameFieldsFlag) {
    for (const std::string& field : node.master_fields) {
      uint64_t len = GetVarint(p);
      out->push_back(field);
      out->emplace_back(p, len);
      p += len;
    }
    return;
  }
  uint64_t pairs = GetVarint(p);
  for (uint64_t i = 0; i < 2 * pairs; ++i) {
    uint64_t len = GetVarint(p);
    out->emplace_back(p, len);
    p += len;
  }
}

// The first entry index in `node` whose ID is >= id (or > id when `upper`).
size_t Bound(const Node& node, StreamId master, StreamId id, bool upper) {
  size_t lo = 0, hi = EntryCount(node);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    StreamId at = IdAt(node, master, mid);
    if (upper ? at <= id : at < id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Redis's string2ull: canonical integers (negative ones rejected), else strtoull's rules.
bool StringToUll(const char* s, uint64_t* out) {
  int64_t ll;
  if (IsCanonicalInt(std::string_view(s), &ll)) {
    if (ll < 0) return false;
    *out = static_cast<uint64_t>(ll);
    return true;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno == EINVAL || errno == ERANGE || *s == '\0' || *end != '\0') return false;
  *out = v;
  return true;
}

// Nodes of a rax (Redis's radix tree) holding `keys`, sorted, distinct, all 16 bytes, that
// share their first `depth` bytes: a compressed node for a longer common prefix, a branching
// node, and below it each distinct next byte's subtree; a key ends in an empty leaf node.
using RaxKey = std::array<uint8_t, 16>;
size_t RaxNodes(const std::vector<RaxKey>& keys, size_t lo, size_t hi, size_t depth) {
  if (hi - lo == 1) return depth == 16 ? 1 : 2;
  size_t common = depth;
  while (keys[lo][common] == keys[hi - 1][common]) ++common;
  size_t nodes = common > depth ? 2 : 1;  // (compressed node +) branching node
  for (size_t i = lo; i < hi;) {
    size_t j = i + 1;
    while (j < hi && keys[j][common] == keys[i][common]) ++j;
    nodes += RaxNodes(keys, i, j, common + 1);
    i = j;
  }
  return nodes;
}

}  // namespace

bool StreamId::Incr() {
  if (seq == UINT64_MAX) {
    if (ms == UINT64_MAX) {
      ms = seq = 0;
      return false;
    }
    ++ms;
    seq = 0;
  } else {
    ++seq;
  }
  return true;
}

bool StreamId::Decr() {
  if (seq == 0) {
    if (ms == 0) {
      ms = seq = UINT64_MAX;
      return false;
    }
    --ms;
    seq = UINT64_MAX;
  } else {
    --seq;
  }
  return true;
}

std::string StreamId::ToString() const { return std::to_string(ms) + "-" + std::to_string(seq); }

bool ParseStreamId(std::string_view text, bool strict, uint64_t missing_seq, StreamId* id,
                   bool* seq_given) {
  // Redis copies the argument into a 128-byte C string: longer ones are invalid, and an
  // embedded NUL ends the text.
  char buf[128];
  if (text.size() > sizeof(buf) - 1) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') return false;
  if (seq_given != nullptr) *seq_given = true;
  if (buf[0] == '-' && buf[1] == '\0') {
    *id = StreamId{0, 0};
    return true;
  }
  if (buf[0] == '+' && buf[1] == '\0') {
    *id = StreamId::Max();
    return true;
  }
  char* dash = std::strchr(buf, '-');
  if (dash != nullptr) *dash = '\0';
  uint64_t ms, seq;
  if (!StringToUll(buf, &ms)) return false;
  if (dash != nullptr) {
    if (seq_given != nullptr && dash[1] == '*' && dash[2] == '\0') {
      seq = 0;
      *seq_given = false;
    } else if (!StringToUll(dash + 1, &seq)) {
      return false;
    }
  } else {
    seq = missing_seq;
  }
  *id = StreamId{ms, seq};
  return true;
}

size_t stream_internal::Node::ListpackBytes() const {
  return lp_bytes_base + ListpackIntBytes(static_cast<int64_t>(live)) +
         ListpackIntBytes(static_cast<int64_t>(deleted));
}

std::unique_ptr<Collection> StreamValue::Clone() const {
  return std::make_unique<StreamValue>(*this);
}

StreamValue::AddStatus StreamValue::Add(const IdRequest& request,
                                        std::span<const std::string_view> field_values,
                                        int64_t now_ms, const StreamNodeLimits& limits,
                                        StreamId* added) {
  if (last_id_ == StreamId::Max()) return AddStatus::kExhausted;
  StreamId id;
  switch (request.kind) {
    case IdRequest::Kind::kExplicit:
      id = request.id;
      break;
    case IdRequest::Kind::kAutoSeq:
      if (last_id_.ms == request.id.ms) {
        if (last_id_.seq == UINT64_MAX) return AddStatus::kIdTooSmall;
        id = StreamId{last_id_.ms, last_id_.seq + 1};
      } else {
        id = StreamId{request.id.ms, 0};
      }
      break;
    case IdRequest::Kind::kAuto: {
      uint64_t ms = static_cast<uint64_t>(now_ms);
      if (ms > last_id_.ms) {
        id = StreamId{ms, 0};
      } else {
        id = last_id_;
        id.Incr();
      }
      break;
    }
  }
  if (id <= last_id_) return AddStatus::kIdTooSmall;

  uint64_t total_len = 0;
  for (std::string_view s : field_values) total_len += s.size();
  if (total_len > kListpackMaxSize) return AddStatus::kTooLarge;
  const size_t pairs = field_values.size() / 2;

  // The tail node takes the entry unless it is full (as Redis's streamAppendItem decides).
  Node* node = nullptr;
  StreamId master;
  if (!nodes_.empty()) {
    auto& [tail_master, tail] = *nodes_.rbegin();
    uint64_t max_bytes = static_cast<uint64_t>(limits.max_bytes);
    if (limits.max_bytes <= 0 || max_bytes > kListpackMaxSize) max_bytes = kListpackMaxSize;
    bool full = tail.ListpackBytes() + total_len >= max_bytes;
    if (!full && limits.max_entries > 0) {
      full = tail.live + tail.deleted >= static_cast<uint64_t>(limits.max_entries);
    }
    // Entry offsets are 32-bit: a node never grows past that (far beyond any Redis node).
    if (!full && tail.data.size() + 2 * total_len + 64 * (pairs + 1) > UINT32_MAX) full = true;
    if (!full) {
      node = &tail;
      master = tail_master;
    }
  }
  bool same_fields;
  if (node == nullptr) {
    master = id;
    node = &nodes_.emplace_hint(nodes_.end(), id, Node{})->second;
    node->lp_bytes_base = kListpackEmptyBytes + ListpackIntBytes(static_cast<int64_t>(pairs)) +
                          ListpackIntBytes(0);  // field count, master entry terminator
    node->master_fields.reserve(pairs);
    for (size_t i = 0; i < pairs; ++i) {
      node->master_fields.emplace_back(field_values[2 * i]);
      node->lp_bytes_base += ListpackStringBytes(field_values[2 * i]);
    }
    same_fields = true;
  } else {
    same_fields = node->master_fields.size() == pairs;
    for (size_t i = 0; same_fields && i < pairs; ++i) {
      same_fields = node->master_fields[i] == field_values[2 * i];
    }
  }

  // Packed bytes, and the listpack bytes Redis would add for this entry.
  uint8_t flags = same_fields ? kSameFieldsFlag : 0;
  node->offsets.push_back(static_cast<uint32_t>(node->data.size()));
  node->data.push_back(static_cast<char>(flags));
  PutVarint(&node->data, id.ms - master.ms);
  PutVarint(&node->data, id.seq);
  size_t lp = ListpackIntBytes(flags) + ListpackIntBytes(static_cast<int64_t>(id.ms - master.ms)) +
              ListpackIntBytes(static_cast<int64_t>(id.seq - master.seq));
  int64_t lp_count = static_cast<int64_t>(pairs) + 3;
  if (!same_fields) {
    PutVarint(&node->data, pairs);
    lp += ListpackIntBytes(static_cast<int64_t>(pairs));
    lp_count += static_cast<int64_t>(pairs) + 1;
  }
  for (size_t i = 0; i < pairs; ++i) {
    if (!same_fields) {
      std::string_view f = field_values[2 * i];
      PutVarint(&node->data, f.size());
      node->data.append(f);
      lp += ListpackStringBytes(f);
    }
    std::string_view v = field_values[2 * i + 1];
    PutVarint(&node->data, v.size());
    node->data.append(v);
    lp += ListpackStringBytes(v);
  }
  lp += ListpackIntBytes(lp_count);
  node->lp_bytes_base += lp;
  ++node->live;

  ++length_;
  ++entries_added_;
  last_id_ = id;
  if (added != nullptr) *added = id;
  return AddStatus::kOk;
}

bool StreamValue::DeleteOne(StreamId id) {
  auto it = nodes_.upper_bound(id);
  if (it == nodes_.begin()) return false;
  --it;
  Node& node = it->second;
  size_t index = Bound(node, it->first, id, false);
  if (index == EntryCount(node) || IdAt(node, it->first, index) != id || DeletedAt(node, index)) {
    return false;
  }
  if (node.live == 1) {
    nodes_.erase(it);  // its last live entry: the whole node goes
  } else {
    MarkDeleted(&node, index);
    --node.live;
    ++node.deleted;
  }
  --length_;
  return true;
}

size_t StreamValue::Delete(std::span<const StreamId> ids) {
  size_t deleted = 0;
  for (StreamId id : ids) {
    if (!DeleteOne(id)) continue;
    if (id > max_deleted_id_) max_deleted_id_ = id;
    ++deleted;
  }
  return deleted;
}

int64_t StreamValue::Trim(const StreamTrimArgs& args) {
  using Strategy = StreamTrimArgs::Strategy;
  if (args.strategy == Strategy::kNone) return 0;
  const bool by_len = args.strategy == Strategy::kMaxLen;
  int64_t deleted = 0;
  auto it = nodes_.begin();
  while (it != nodes_.end()) {
    if (by_len && length_ <= args.maxlen) break;
    Node& node = it->second;
    const int64_t entries = static_cast<int64_t>(node.live);
    if (args.limit != 0 && deleted + entries > args.limit) break;
    bool remove_node;
    if (by_len) {
      remove_node = length_ - static_cast<uint64_t>(entries) >= args.maxlen;
    } else {
      // The node's last entry, deleted or not, as Redis reads it.
      remove_node = IdAt(node, it->first, EntryCount(node) - 1) < args.minid;
    }
    if (remove_node) {
      length_ -= static_cast<uint64_t>(entries);
      deleted += entries;
      it = nodes_.erase(it);
      continue;
    }
    if (args.approx) break;
    // Flag entries of this node as deleted until the target is reached; the node stays.
    uint64_t from_node = 0;
    for (size_t i = 0; i < EntryCount(node); ++i) {
      bool stop = by_len ? length_ <= args.maxlen : IdAt(node, it->first, i) >= args.minid;
      if (stop) break;
      if (!DeletedAt(node, i)) {
        MarkDeleted(&node, i);
        ++from_node;
        --length_;
      }
    }
    node.live -= from_node;
    node.deleted += from_node;
    deleted += static_cast<int64_t>(from_node);
    break;
  }
  return deleted;
}

StreamId StreamValue::first_id() const {
  StreamId id;
  Iterator it(*this, StreamId{0, 0}, StreamId::Max(), false);
  return it.Next(&id, nullptr) ? id : StreamId{0, 0};
}

StreamId StreamValue::last_valid_id() const {
  StreamId id;
  Iterator it(*this, StreamId{0, 0}, StreamId::Max(), true);
  return it.Next(&id, nullptr) ? id : StreamId{0, 0};
}

size_t StreamValue::RadixTreeNodes() const {
  if (nodes_.empty()) return 1;  // the empty root
  std::vector<RaxKey> keys;
  keys.reserve(nodes_.size());
  for (const auto& [master, node] : nodes_) {
    RaxKey k;
    for (int i = 0; i < 8; ++i) {
      k[i] = static_cast<uint8_t>(master.ms >> (56 - 8 * i));
      k[8 + i] = static_cast<uint8_t>(master.seq >> (56 - 8 * i));
    }
    keys.push_back(k);
  }
  return RaxNodes(keys, 0, keys.size(), 0);
}

std::vector<size_t> StreamValue::NodeBytesForTest() const {
  std::vector<size_t> out;
  for (const auto& [master, node] : nodes_) out.push_back(node.ListpackBytes());
  return out;
}

std::vector<size_t> StreamValue::NodeEntriesForTest() const {
  std::vector<size_t> out;
  for (const auto& [master, node] : nodes_) out.push_back(node.live + node.deleted);
  return out;
}

// ---- Iterator ----

StreamValue::Iterator::Iterator(const StreamValue& stream, StreamId start, StreamId end,
                                bool reverse)
    : nodes_(stream.nodes_), start_(start), end_(end), reverse_(reverse) {
  if (start > end || nodes_.empty()) {
    done_ = true;
    return;
  }
  if (!reverse) {
    // The node that may hold `start`: the last one whose master ID is <= start, else the first.
    node_ = nodes_.upper_bound(start);
    if (node_ != nodes_.begin()) --node_;
    index_ = Bound(node_->second, node_->first, start, false);
  } else {
    node_ = nodes_.upper_bound(end);
    if (node_ == nodes_.begin()) {
      done_ = true;  // every node starts after `end`
      return;
    }
    --node_;
    index_ = Bound(node_->second, node_->first, end, true);
  }
}

bool StreamValue::Iterator::Next(StreamId* id, std::vector<std::string_view>* field_values) {
  while (!done_) {
    const Node& node = node_->second;
    if (!reverse_) {
      if (index_ >= EntryCount(node)) {
        if (++node_ == nodes_.end()) break;
        index_ = 0;
        continue;
      }
      StreamId at = IdAt(node, node_->first, index_);
      if (at > end_) break;
      size_t index = index_++;
      if (DeletedAt(node, index)) continue;
      *id = at;
      if (field_values != nullptr) DecodeFields(node, index, field_values);
      return true;
    }
    if (index_ == 0) {
      if (node_ == nodes_.begin()) break;
      --node_;
      index_ = EntryCount(node_->second);
      continue;
    }
    size_t index = --index_;
    StreamId at = IdAt(node, node_->first, index);
    if (at < start_) break;
    if (DeletedAt(node, index)) continue;
    *id = at;
    if (field_values != nullptr) DecodeFields(node, index, field_values);
    return true;
  }
  done_ = true;
  return false;
}

bool StreamValue::Contains(StreamId id) const {
  Iterator it(*this, id, id, false);
  StreamId found;
  return it.Next(&found, nullptr);
}

bool StreamValue::RangeHasTombstones(StreamId start, StreamId end) const {
  if (length_ == 0 || max_deleted_id_.IsZero()) return false;
  if (first_id() > max_deleted_id_) return false;  // the latest tombstone precedes the entries
  return start <= max_deleted_id_ && max_deleted_id_ <= end;
}

int64_t StreamValue::EstimateDistanceFromFirstEverEntry(StreamId id) const {
  const auto added = static_cast<int64_t>(entries_added_);
  if (entries_added_ == 0) return 0;  // an empty, never used stream
  if (length_ == 0 && id <= last_id_) return added;
  if (id == last_id_) return added;               // the exact counter of the last entry
  if (id > last_id_) return kInvalidEntriesRead;  // a future ID
  const StreamId first = first_id();
  if (max_deleted_id_.IsZero() || max_deleted_id_ < first) {
    // No fragmentation ahead.
    if (id < first) return added - static_cast<int64_t>(length_);
    if (id == first) return added - static_cast<int64_t>(length_) + 1;
  }
  return kInvalidEntriesRead;
}

bool StreamValue::GroupLag(const StreamGroup& group, int64_t* lag) const {
  const auto added = static_cast<int64_t>(entries_added_);
  if (entries_added_ == 0) {
    *lag = 0;
    return true;
  }
  if (group.entries_read != kInvalidEntriesRead &&
      !RangeHasTombstones(group.last_id, StreamId::Max())) {
    *lag = added - group.entries_read;
    return true;
  }
  int64_t read = EstimateDistanceFromFirstEverEntry(group.last_id);
  if (read == kInvalidEntriesRead) return false;
  *lag = added - read;
  return true;
}

void StreamValue::AdvanceGroup(StreamGroup* group, StreamId id) const {
  if (id <= group->last_id) return;
  if (group->entries_read != kInvalidEntriesRead && !RangeHasTombstones(id, StreamId::Max())) {
    ++group->entries_read;
  } else if (entries_added_ != 0) {
    group->entries_read = EstimateDistanceFromFirstEverEntry(id);
  }
  group->last_id = id;
}

}  // namespace shardis
