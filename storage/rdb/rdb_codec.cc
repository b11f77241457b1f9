// Value <-> RDB object encoding, and DUMP payloads (see rdb_codec.h).
#include "storage/rdb/rdb_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "storage/hash_value.h"
#include "storage/list_value.h"
#include "storage/rdb/crc64.h"
#include "storage/set_value.h"

namespace shardis::rdb {
namespace {

// Stream listpack entry flags.
constexpr int64_t kStreamItemDeleted = 1;
constexpr int64_t kStreamItemSameFields = 2;
// Stream nodes written: at most this many entries or about this many bytes (Redis's defaults for
// stream-node-max-entries / stream-node-max-bytes).
constexpr size_t kStreamNodeEntries = 100;
constexpr size_t kStreamNodeBytes = 4096;

// The byte budget of a list node under list-max-listpack-size (Redis's quicklist fill rule).
size_t ListNodeBytes(int fill) {
  if (fill >= 0) return 8192;  // positive fills cap entries, with an 8 KB safety limit
  int f = std::clamp(-fill, 1, 5);
  return size_t{4096} << (f - 1);
}

void SaveList(Writer& w, const ListValue& list, const SaveOptions& options) {
  // Nodes: listpacks filled under the fill rule; counted first so the node count leads.
  std::vector<std::string> nodes;
  ListpackBuilder lp;
  size_t max_bytes = ListNodeBytes(options.list_fill);
  size_t max_count = options.list_fill > 0 ? static_cast<size_t>(options.list_fill) : SIZE_MAX;
  for (ListValue::Iterator it = list.IteratorAt(0); it.Valid(); it.Next()) {
    std::string_view v = it.value();
    if (lp.count() > 0 && (lp.count() >= max_count || lp.bytes() + v.size() + 11 > max_bytes)) {
      nodes.push_back(lp.Finish());
    }
    lp.Append(v);
  }
  if (lp.count() > 0) nodes.push_back(lp.Finish());
  w.Len(nodes.size());
  for (const std::string& node : nodes) {
    w.Len(kQuicklistPacked);
    w.String(node, options.compress);
  }
}

void SaveSet(Writer& w, const SetValue& set, const SaveOptions& options) {
  if (set.is_intset()) {
    const IntSet& ints = set.ints();
    std::vector<int64_t> values(ints.size());
    for (size_t i = 0; i < ints.size(); ++i) values[i] = ints.At(i);
    w.String(BuildIntset(values, ints.width()), options.compress);
    return;
  }
  w.Len(set.size());
  set.ForEach([&](std::string_view m) { w.String(m, options.compress); });
}

void SaveHash(Writer& w, const HashValue& hash, const SaveOptions& options) {
  if (hash.is_listpack()) {
    ListpackBuilder lp;
    for (HashValue::Cursor c(hash); !c.Done(); c.Next()) {
      lp.Append(c.field());
      lp.Append(c.value());
    }
    w.String(lp.Finish(), options.compress);
    return;
  }
  w.Len(hash.size());
  for (HashValue::Cursor c(hash); !c.Done(); c.Next()) {
    w.String(c.field(), options.compress);
    w.String(c.value(), options.compress);
  }
}

void SaveZSet(Writer& w, const ZSetValue& zset, const SaveOptions& options) {
  if (zset.encoding() == ZSetValue::Encoding::kListpack) {
    ListpackBuilder lp;
    zset.ForEach([&](std::string_view member, double score) {
      lp.Append(member);
      lp.Append(FormatScore(score));
    });
    w.String(lp.Finish(), options.compress);
    return;
  }
  w.Len(zset.size());
  zset.ForEach([&](std::string_view member, double score) {
    w.String(member, options.compress);
    w.BinaryDouble(score);
  });
}

std::string StreamNodeKey(StreamId id) {
  std::string key(16, '\0');
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<char>(id.ms >> (56 - 8 * i));
    key[8 + i] = static_cast<char>(id.seq >> (56 - 8 * i));
  }
  return key;
}

struct StreamEntryView {
  StreamId id;
  std::vector<std::string_view> fv;
};

// One stream node's listpack, in Redis's layout: the master entry (count, deleted, master field
// count, the fields, 0), then per entry flags, ms / seq deltas from the master ID, the fields
// (omitted when they are the master's) and values, and the entry's element count.
std::string BuildStreamNode(const std::vector<StreamEntryView>& entries) {
  ListpackBuilder lp;
  const StreamEntryView& master = entries.front();
  size_t nfields = master.fv.size() / 2;
  lp.AppendInt(static_cast<int64_t>(entries.size()));
  lp.AppendInt(0);
  lp.AppendInt(static_cast<int64_t>(nfields));
  for (size_t i = 0; i < nfields; ++i) lp.Append(master.fv[2 * i]);
  lp.AppendInt(0);
  for (const StreamEntryView& e : entries) {
    size_t n = e.fv.size() / 2;
    bool same = n == nfields;
    for (size_t i = 0; same && i < n; ++i) same = e.fv[2 * i] == master.fv[2 * i];
    lp.AppendInt(same ? kStreamItemSameFields : 0);
    lp.AppendInt(static_cast<int64_t>(e.id.ms - master.id.ms));
    lp.AppendInt(static_cast<int64_t>(e.id.seq - master.id.seq));
    if (same) {
      for (size_t i = 0; i < n; ++i) lp.Append(e.fv[2 * i + 1]);
      lp.AppendInt(static_cast<int64_t>(n + 3));
    } else {
      lp.AppendInt(static_cast<int64_t>(n));
      for (std::string_view s : e.fv) lp.Append(s);
      lp.AppendInt(static_cast<int64_t>(2 * n + 4));
    }
  }
  return lp.Finish();
}

void SaveStream(Writer& w, const StreamValue& stream, const SaveOptions& options) {
  std::vector<std::pair<std::string, std::string>> nodes;  // (key, listpack)
  std::vector<StreamEntryView> pending;
  size_t pending_bytes = 0;
  auto flush = [&] {
    if (pending.empty()) return;
    nodes.emplace_back(StreamNodeKey(pending.front().id), BuildStreamNode(pending));
    pending.clear();
    pending_bytes = 0;
  };
  StreamValue::Iterator it(stream, StreamId{0, 0}, StreamId::Max(), false);
  StreamEntryView e;
  while (it.Next(&e.id, &e.fv)) {
    if (pending.size() >= kStreamNodeEntries || pending_bytes >= kStreamNodeBytes) flush();
    for (std::string_view s : e.fv) pending_bytes += s.size() + 2;
    pending.push_back(e);
  }
  flush();
  w.Len(nodes.size());
  for (const auto& [key, lp] : nodes) {
    w.RawString(key);
    w.String(lp, options.compress);
  }
  w.Len(stream.size());
  w.Len(stream.last_id().ms);
  w.Len(stream.last_id().seq);
  StreamId first = stream.first_id();
  w.Len(first.ms);
  w.Len(first.seq);
  w.Len(stream.max_deleted_id().ms);
  w.Len(stream.max_deleted_id().seq);
  w.Len(stream.entries_added());
  // Consumer groups, as Redis 7.0 writes them: name, last ID, entries read, the PEL (ID, delivery
  // time, delivery count), then each consumer (name, seen time, the IDs of its PEL).
  w.Len(stream.groups().size());
  for (const auto& [name, g] : stream.groups().map()) {
    w.RawString(name);
    w.Len(g->last_id.ms);
    w.Len(g->last_id.seq);
    w.Len(static_cast<uint64_t>(g->entries_read));
    w.Len(g->pel.size());
    for (const auto& [id, nack] : g->pel) {
      w.Raw(StreamNodeKey(id));
      w.MillisLE(nack.delivery_time);
      w.Len(nack.delivery_count);
    }
    w.Len(g->consumers.size());
    for (const auto& [cname, c] : g->consumers) {
      w.RawString(cname);
      w.MillisLE(c->seen_time);
      w.Len(c->pel.size());
      for (StreamId id : c->pel) w.Raw(StreamNodeKey(id));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

bool ReadBlob(Reader& r, std::string* blob) { return r.String(blob); }

bool Elements(Reader& r, uint8_t type, std::string_view blob, std::vector<std::string>* out) {
  std::string error;
  bool ok;
  switch (type) {
    case kTypeHashZipmap:
      ok = ZipmapElements(blob, out, &error);
      break;
    case kTypeListZiplist:
    case kTypeZSetZiplist:
    case kTypeHashZiplist:
    case kTypeListQuicklist:
      ok = ZiplistElements(blob, out, &error);
      break;
    default:
      ok = ListpackElements(blob, out, &error);
      break;
  }
  if (!ok) return r.Fail(error);
  return true;
}

LoadResult Fail(Reader& r, std::string_view what) {
  r.Fail(what);
  return LoadResult::kError;
}

LoadResult LoadList(uint8_t type, Reader& r, const LoadLimits& limits, Value* out) {
  auto list = std::make_unique<ListValue>(limits.list_fill);
  uint64_t n;
  std::string s;
  std::vector<std::string> elems;
  if (type == kTypeList) {
    if (!r.Len(&n)) return LoadResult::kError;
    for (uint64_t i = 0; i < n; ++i) {
      if (!r.String(&s)) return LoadResult::kError;
      list->PushBack(s);
    }
  } else if (type == kTypeListZiplist) {
    if (!ReadBlob(r, &s) || !Elements(r, type, s, &elems)) return LoadResult::kError;
    for (const std::string& e : elems) list->PushBack(e);
  } else {  // quicklist v1 (ziplist nodes) or v2 (containers)
    if (!r.Len(&n)) return LoadResult::kError;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t container = kQuicklistPacked;
      if (type == kTypeListQuicklist2 && !r.Len(&container)) return LoadResult::kError;
      if (!ReadBlob(r, &s)) return LoadResult::kError;
      if (container == kQuicklistPlain) {
        // Redis writes plain nodes only for big elements; an empty one is corrupt (Redis 7.0
        // answers "Bad data format").
        if (s.empty()) return Fail(r, "empty quicklist plain node");
        list->PushBack(s);
        continue;
      }
      if (container != kQuicklistPacked) return Fail(r, "unknown quicklist container");
      elems.clear();
      if (!Elements(r, type == kTypeListQuicklist ? kTypeListZiplist : kTypeListQuicklist2, s,
                    &elems)) {
        return LoadResult::kError;
      }
      for (const std::string& e : elems) list->PushBack(e);
    }
  }
  if (list->empty()) return LoadResult::kEmpty;
  *out = Value::OfCollection(ValueType::kList, std::move(list));
  return LoadResult::kOk;
}

LoadResult LoadSet(uint8_t type, Reader& r, const LoadLimits& limits, Value* out) {
  auto set = std::make_unique<SetValue>();
  std::string s;
  if (type == kTypeSet) {
    uint64_t n;
    if (!r.Len(&n)) return LoadResult::kError;
    if (n > limits.set_max_intset_entries) set->ConvertToHashtable();
    for (uint64_t i = 0; i < n; ++i) {
      if (!r.String(&s)) return LoadResult::kError;
      if (!set->Add(s, limits.set_max_intset_entries)) return Fail(r, "duplicate set member");
    }
  } else if (type == kTypeSetIntset) {
    std::vector<int64_t> values;
    std::string error;
    if (!ReadBlob(r, &s)) return LoadResult::kError;
    if (!IntsetElements(s, &values, &error)) return Fail(r, error);
    char buf[24];
    for (int64_t v : values) {
      if (!set->Add(SetValue::FormatInt(v, buf), limits.set_max_intset_entries)) {
        return Fail(r, "duplicate intset member");
      }
    }
  } else {  // set listpack (Redis 7.2)
    std::vector<std::string> elems;
    if (!ReadBlob(r, &s) || !Elements(r, type, s, &elems)) return LoadResult::kError;
    for (const std::string& e : elems) {
      if (!set->Add(e, limits.set_max_intset_entries)) return Fail(r, "duplicate set member");
    }
  }
  if (set->empty()) return LoadResult::kEmpty;
  *out = Value::OfCollection(ValueType::kSet, std::move(set));
  return LoadResult::kOk;
}

LoadResult LoadHash(uint8_t type, Reader& r, const LoadLimits& limits, Value* out) {
  auto hash = std::make_unique<HashValue>();
  std::vector<std::string> elems;
  if (type == kTypeHash) {
    uint64_t n;
    if (!r.Len(&n)) return LoadResult::kError;
    if (n > limits.hash_max_listpack_entries) hash->ConvertToHashtable();
    std::string f, v;
    for (uint64_t i = 0; i < n; ++i) {
      if (!r.String(&f) || !r.String(&v)) return LoadResult::kError;
      if (!hash->Set(f, v, limits.hash_max_listpack_entries, limits.hash_max_listpack_value)) {
        return Fail(r, "duplicate hash field");
      }
    }
  } else {
    std::string blob;
    if (!ReadBlob(r, &blob) || !Elements(r, type, blob, &elems)) return LoadResult::kError;
    if (elems.size() % 2 != 0) return Fail(r, "hash blob with an odd element count");
    if (elems.size() / 2 > limits.hash_max_listpack_entries) hash->ConvertToHashtable();
    for (size_t i = 0; i < elems.size(); i += 2) {
      if (!hash->Set(elems[i], elems[i + 1], limits.hash_max_listpack_entries,
                     limits.hash_max_listpack_value)) {
        return Fail(r, "duplicate hash field");
      }
    }
  }
  if (hash->empty()) return LoadResult::kEmpty;
  *out = Value::OfCollection(ValueType::kHash, std::move(hash));
  return LoadResult::kOk;
}

bool ParseScore(const std::string& s, double* v) {
  char* end = nullptr;
  *v = strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && !std::isnan(*v);
}

LoadResult LoadZSet(uint8_t type, Reader& r, const LoadLimits& limits, Value* out) {
  std::vector<ZEntry> entries;
  if (type == kTypeZSet || type == kTypeZSet2) {
    uint64_t n;
    if (!r.Len(&n)) return LoadResult::kError;
    for (uint64_t i = 0; i < n; ++i) {
      ZEntry e;
      if (!r.String(&e.member)) return LoadResult::kError;
      bool ok = type == kTypeZSet2 ? r.BinaryDouble(&e.score) : r.StringDouble(&e.score);
      if (!ok) return LoadResult::kError;
      if (std::isnan(e.score)) return Fail(r, "NaN score");
      entries.push_back(std::move(e));
    }
  } else {
    std::string blob;
    std::vector<std::string> elems;
    if (!ReadBlob(r, &blob) || !Elements(r, type, blob, &elems)) return LoadResult::kError;
    if (elems.size() % 2 != 0) return Fail(r, "zset blob with an odd element count");
    for (size_t i = 0; i < elems.size(); i += 2) {
      ZEntry e;
      e.member = std::move(elems[i]);
      if (!ParseScore(elems[i + 1], &e.score)) return Fail(r, "invalid zset score");
      entries.push_back(std::move(e));
    }
  }
  if (entries.empty()) return LoadResult::kEmpty;
  std::sort(entries.begin(), entries.end(),
            [](const ZEntry& a, const ZEntry& b) { return a.member < b.member; });
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].member == entries[i - 1].member) return Fail(r, "duplicate zset member");
  }
  std::sort(entries.begin(), entries.end(), [](const ZEntry& a, const ZEntry& b) {
    return a.score < b.score || (a.score == b.score && a.member < b.member);
  });
  *out =
      Value::OfCollection(ValueType::kZSet, ZSetValue::FromSorted(std::move(entries), limits.zset));
  return LoadResult::kOk;
}

bool ToInt(const std::string& s, int64_t* v) { return ParseCanonicalInt(s, v); }

// Adds the live entries of one stream node listpack to `stream`.
bool LoadStreamNode(Reader& r, StreamId master, const std::vector<std::string>& lp,
                    StreamValue* stream, const LoadLimits& limits) {
  size_t i = 0;
  auto next_int = [&](int64_t* v) {
    if (i >= lp.size() || !ToInt(lp[i], v)) return r.Fail("malformed stream node");
    ++i;
    return true;
  };
  int64_t count, deleted, nmaster;
  if (!next_int(&count) || !next_int(&deleted) || !next_int(&nmaster)) return false;
  if (nmaster < 0 || static_cast<uint64_t>(nmaster) > lp.size() - i) {
    return r.Fail("malformed stream node");
  }
  std::vector<std::string_view> master_fields;
  for (int64_t k = 0; k < nmaster; ++k) master_fields.push_back(lp[i++]);
  int64_t zero;
  if (!next_int(&zero)) return false;
  if (zero != 0) return r.Fail("stream master entry without its zero terminator");
  std::vector<std::string_view> fv;
  StreamValue::IdRequest req;
  req.kind = StreamValue::IdRequest::Kind::kExplicit;
  for (int64_t e = 0; e < count + deleted; ++e) {
    int64_t flags, dms, dseq, lp_count;
    if (!next_int(&flags) || !next_int(&dms) || !next_int(&dseq)) return false;
    fv.clear();
    if (flags & kStreamItemSameFields) {
      if (static_cast<size_t>(nmaster) > lp.size() - i) return r.Fail("malformed stream entry");
      for (int64_t k = 0; k < nmaster; ++k) {
        fv.push_back(master_fields[k]);
        fv.push_back(lp[i++]);
      }
    } else {
      int64_t n;
      if (!next_int(&n)) return false;
      if (n < 0 || static_cast<uint64_t>(n) > (lp.size() - i) / 2) {
        return r.Fail("malformed stream entry");
      }
      for (int64_t k = 0; k < 2 * n; ++k) fv.push_back(lp[i++]);
    }
    if (!next_int(&lp_count)) return false;
    // lp-count: the entry's element count before it (as streamValidateListpackIntegrity).
    const int64_t nfields = static_cast<int64_t>(fv.size() / 2);
    const int64_t expect = (flags & kStreamItemSameFields) ? nfields + 3 : 2 * nfields + 4;
    if (lp_count != expect) return r.Fail("stream entry lp-count mismatch");
    if (flags & kStreamItemDeleted) continue;
    if (fv.empty()) return r.Fail("stream entry without fields");
    req.id =
        StreamId{master.ms + static_cast<uint64_t>(dms), master.seq + static_cast<uint64_t>(dseq)};
    StreamId added;
    if (stream->Add(req, fv, 0, limits.stream, &added) != StreamValue::AddStatus::kOk) {
      return r.Fail("stream entries out of order");
    }
  }
  if (i != lp.size()) return r.Fail("trailing elements in a stream node");
  return true;
}

LoadResult LoadStream(uint8_t type, Reader& r, const LoadLimits& limits, Value* out) {
  auto stream = std::make_unique<StreamValue>();
  uint64_t nodes;
  if (!r.Len(&nodes)) return LoadResult::kError;
  std::string key, blob;
  std::vector<std::string> elems;
  for (uint64_t n = 0; n < nodes; ++n) {
    if (!r.String(&key)) return LoadResult::kError;
    if (key.size() != 16) return Fail(r, "stream node key is not 128 bits");
    StreamId master;
    for (int i = 0; i < 8; ++i) {
      master.ms = (master.ms << 8) | static_cast<uint8_t>(key[i]);
      master.seq = (master.seq << 8) | static_cast<uint8_t>(key[8 + i]);
    }
    if (!r.String(&blob)) return LoadResult::kError;
    elems.clear();
    if (!Elements(r, kTypeStreamListpacks, blob, &elems)) return LoadResult::kError;
    if (elems.empty()) return Fail(r, "empty stream node");
    if (!LoadStreamNode(r, master, elems, stream.get(), limits)) return LoadResult::kError;
  }
  uint64_t length, last_ms, last_seq;
  if (!r.Len(&length) || !r.Len(&last_ms) || !r.Len(&last_seq)) return LoadResult::kError;
  // As Redis: a non-zero length needs nodes.
  if (length != 0 && nodes == 0) return Fail(r, "stream length inconsistent with its nodes");
  StreamId last{last_ms, last_seq};
  if (last < stream->last_id()) return Fail(r, "stream last ID below its entries");
  stream->set_last_id(last);
  if (type >= kTypeStreamListpacks2) {
    uint64_t a, b, c, d, added;
    if (!r.Len(&a) || !r.Len(&b) || !r.Len(&c) || !r.Len(&d) || !r.Len(&added)) {
      return LoadResult::kError;
    }
    stream->set_max_deleted_id(StreamId{c, d});
    stream->set_entries_added(added);
  } else {
    stream->set_entries_added(stream->size());
  }
  uint64_t groups;
  if (!r.Len(&groups)) return LoadResult::kError;
  auto decode_id = [](std::string_view raw) {
    StreamId id;
    for (int i = 0; i < 8; ++i) {
      id.ms = (id.ms << 8) | static_cast<uint8_t>(raw[i]);
      id.seq = (id.seq << 8) | static_cast<uint8_t>(raw[8 + i]);
    }
    return id;
  };
  for (uint64_t n = 0; n < groups; ++n) {
    std::string name;
    uint64_t ms, seq, pel;
    if (!r.String(&name) || !r.Len(&ms) || !r.Len(&seq)) return LoadResult::kError;
    const StreamId group_last{ms, seq};
    int64_t entries_read;
    if (type >= kTypeStreamListpacks2) {
      uint64_t v;
      if (!r.Len(&v)) return LoadResult::kError;
      entries_read = static_cast<int64_t>(v);
    } else {
      entries_read = stream->EstimateDistanceFromFirstEverEntry(group_last);
    }
    StreamGroup* group = stream->groups().Create(name, group_last, entries_read);
    if (group == nullptr) return Fail(r, "duplicated consumer group name");
    if (!r.Len(&pel)) return LoadResult::kError;
    for (uint64_t p = 0; p < pel; ++p) {
      std::string_view raw;
      int64_t delivery_time;
      uint64_t count;
      if (!r.Raw(16, &raw)) return LoadResult::kError;
      const StreamId id = decode_id(raw);
      if (!r.MillisLE(&delivery_time) || !r.Len(&count)) return LoadResult::kError;
      if (!group->AddNack(id, nullptr, delivery_time, count)) {
        return Fail(r, "duplicated global PEL entry");
      }
    }
    uint64_t consumers;
    if (!r.Len(&consumers)) return LoadResult::kError;
    size_t owned = 0;
    for (uint64_t c = 0; c < consumers; ++c) {
      std::string cname;
      int64_t seen_time, active_time;
      if (!r.String(&cname) || !r.MillisLE(&seen_time)) return LoadResult::kError;
      if (type >= kTypeStreamListpacks3 && !r.MillisLE(&active_time)) return LoadResult::kError;
      StreamConsumer* consumer = group->CreateConsumer(cname, seen_time);
      if (consumer == nullptr) return Fail(r, "duplicated consumer name");
      if (!r.Len(&pel)) return LoadResult::kError;
      for (uint64_t p = 0; p < pel; ++p) {
        std::string_view raw;
        if (!r.Raw(16, &raw)) return LoadResult::kError;
        const StreamId id = decode_id(raw);
        StreamNack* nack = group->FindNack(id);
        if (nack == nullptr || nack->consumer != nullptr) {
          return Fail(r, "consumer PEL entry not in the group PEL");
        }
        nack->consumer = consumer;
        consumer->pel.insert(id);
        ++owned;
      }
    }
    // Every pending entry needs its consumer (Redis's deep integrity check).
    if (owned != group->pel.size()) return Fail(r, "group PEL entry without a consumer");
  }
  (void)length;
  *out = Value::OfCollection(ValueType::kStream, std::move(stream));
  return LoadResult::kOk;
}

}  // namespace

uint8_t ObjectType(ValueType type, const Collection* coll) {
  switch (type) {
    case ValueType::kString:
      return kTypeString;
    case ValueType::kList:
      return kTypeListQuicklist2;
    case ValueType::kSet:
      return static_cast<const SetValue*>(coll)->is_intset() ? kTypeSetIntset : kTypeSet;
    case ValueType::kHash:
      return static_cast<const HashValue*>(coll)->is_listpack() ? kTypeHashListpack : kTypeHash;
    case ValueType::kZSet:
      return static_cast<const ZSetValue*>(coll)->encoding() == ZSetValue::Encoding::kListpack
                 ? kTypeZSetListpack
                 : kTypeZSet2;
    case ValueType::kStream:
      return kTypeStreamListpacks2;
  }
  return kTypeString;
}

void SaveObject(Writer& w, ValueType type, std::string_view str, const Collection* coll,
                const SaveOptions& options) {
  switch (type) {
    case ValueType::kString:
      w.String(str, options.compress);
      return;
    case ValueType::kList:
      SaveList(w, *static_cast<const ListValue*>(coll), options);
      return;
    case ValueType::kSet:
      SaveSet(w, *static_cast<const SetValue*>(coll), options);
      return;
    case ValueType::kHash:
      SaveHash(w, *static_cast<const HashValue*>(coll), options);
      return;
    case ValueType::kZSet:
      SaveZSet(w, *static_cast<const ZSetValue*>(coll), options);
      return;
    case ValueType::kStream:
      SaveStream(w, *static_cast<const StreamValue*>(coll), options);
      return;
  }
}

LoadResult LoadObject(uint8_t rdb_type, Reader& r, const LoadLimits& limits, Value* out) {
  switch (rdb_type) {
    case kTypeString: {
      std::string s;
      if (!r.String(&s)) return LoadResult::kError;
      *out = Value::FromString(std::move(s));
      return LoadResult::kOk;
    }
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return LoadList(rdb_type, r, limits, out);
    case kTypeSet:
    case kTypeSetIntset:
    case kTypeSetListpack:
      return LoadSet(rdb_type, r, limits, out);
    case kTypeHash:
    case kTypeHashZipmap:
    case kTypeHashZiplist:
    case kTypeHashListpack:
      return LoadHash(rdb_type, r, limits, out);
    case kTypeZSet:
    case kTypeZSet2:
    case kTypeZSetZiplist:
    case kTypeZSetListpack:
      return LoadZSet(rdb_type, r, limits, out);
    case kTypeStreamListpacks:
    case kTypeStreamListpacks2:
    case kTypeStreamListpacks3:
      return LoadStream(rdb_type, r, limits, out);
    case kTypeModule:
    case kTypeModule2:
      return Fail(r, "module values are not supported");
    default:
      return Fail(r, "unknown object type " + std::to_string(rdb_type));
  }
}

std::string CreateDumpPayload(ValueType type, std::string_view str, const Collection* coll,
                              const SaveOptions& options) {
  std::string out;
  Writer w(&out);
  w.U8(ObjectType(type, coll));
  SaveObject(w, type, str, coll, options);
  w.U8(kRdbVersion & 0xff);
  w.U8(kRdbVersion >> 8);
  w.U64LE(Crc64(0, out));
  return out;
}

RestoreStatus ParseDumpPayload(std::string_view payload, const LoadLimits& limits, Value* out) {
  if (payload.size() < 10) return RestoreStatus::kBadVersionOrChecksum;
  const auto* footer = reinterpret_cast<const unsigned char*>(payload.data() + payload.size() - 10);
  int version = footer[0] | (footer[1] << 8);
  if (version > kRdbVersion) return RestoreStatus::kBadVersionOrChecksum;
  uint64_t crc = Crc64(0, payload.substr(0, payload.size() - 8));
  uint64_t stored = 0;
  for (int i = 0; i < 8; ++i) stored |= uint64_t{footer[2 + i]} << (8 * i);
  if (crc != stored && !limits.skip_checksum) return RestoreStatus::kBadVersionOrChecksum;
  // As Redis, the object is read from the whole payload: a truncated object may run into the
  // footer's bytes (redis-server reads it the same way and accepts what parses).
  Reader r(payload);
  uint8_t type;
  if (!r.U8(&type)) return RestoreStatus::kBadFormat;
  if (LoadObject(type, r, limits, out) != LoadResult::kOk) return RestoreStatus::kBadFormat;
  return RestoreStatus::kOk;
}

}  // namespace shardis::rdb
