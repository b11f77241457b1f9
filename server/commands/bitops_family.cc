// The bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO) with
// redis-server 7.0 semantics, replies and error texts. Bitmaps are string values; bit 0 is the
// most significant bit of the first byte.
//
// on_shard handlers run on the thread of the shard that owns the keys. BITOP also has an on_client
// handler, run on the connection's thread when its keys span shards: it fetches copies of the
// sources from their shards (each task writing only its own slot), computes the result on the
// connection's thread, then stores it on the destination's shard. Registered from
// RegisterStringCommands (string_family.cc).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/db.h"
#include "storage/value.h"

namespace shardis {

void RegisterBitmapCommands(std::vector<CommandSpec>* table);

namespace {

constexpr std::string_view kBitOffsetErr = "ERR bit offset is not an integer or out of range";
constexpr std::string_view kBitValueErr = "ERR bit is not an integer or out of range";
constexpr std::string_view kBitfieldTypeErr =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";

bool IsString(const Entry* e) { return e->type() == ValueType::kString; }

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Redis's getBitOffsetFromArgument. With `hash` and bits > 0, "#n" means n * bits (as Redis, the
// product wraps on overflow). The byte holding the bit must be below proto-max-bulk-len.
bool ParseBitOffset(ReplyBuilder& reply, const Config& config, std::string_view arg, bool hash,
                    int bits, uint64_t* offset) {
  bool use_hash = hash && bits > 0 && !arg.empty() && arg[0] == '#';
  int64_t v;
  if (!cmd::ParseInt64(use_hash ? arg.substr(1) : arg, &v)) {
    reply.Error(kBitOffsetErr);
    return false;
  }
  if (use_hash) v = static_cast<int64_t>(static_cast<uint64_t>(v) * static_cast<uint64_t>(bits));
  if (v < 0 || (v >> 3) >= config.proto_max_bulk_len) {
    reply.Error(kBitOffsetErr);
    return false;
  }
  *offset = static_cast<uint64_t>(v);
  return true;
}

// Redis's lookupStringForBitCommand: the string at the command's key, created or zero-padded so
// that bit `max_bit` exists, and made raw (it is about to be modified in place). Null after a
// WRONGTYPE reply. *grown tells whether it was created or lengthened.
Entry* StringForBitWrite(ShardCommand& c, uint64_t max_bit, bool* grown) {
  size_t len = static_cast<size_t>(max_bit >> 3) + 1;
  Entry* e = c.db.Find(c.args[1]);
  *grown = false;
  if (e != nullptr && !IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return nullptr;
  }
  if (e == nullptr) {
    e = c.db.Set(c.args[1], Value::RawString(std::string(len, '\0')));
    *grown = true;
  } else {
    size_t size = e->str().size();
    if (size < len) *grown = true;
    c.db.ResizeString(e, std::max(size, len));  // now raw: about to be modified in place
  }
  e->set_access_time(c.now_ms());
  return e;
}

int64_t Popcount(const unsigned char* p, size_t n) {
  int64_t bits = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    bits += __builtin_popcountll(w);
  }
  for (; i < n; ++i) bits += __builtin_popcount(p[i]);
  return bits;
}

// Redis's redisBitpos: the position of the first bit equal to `bit` in p[0..count). Looking for
// 0 in all-ones bytes gives count * 8 (the string is taken as padded with zeros); looking for 1
// in all-zero bytes gives -1.
int64_t Bitpos(const unsigned char* p, size_t count, int bit) {
  const uint64_t skip_word = bit ? 0 : ~uint64_t{0};
  const unsigned char skip_byte = bit ? 0 : 0xff;
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w != skip_word) break;
  }
  while (i < count && p[i] == skip_byte) ++i;
  if (i == count) return bit ? -1 : static_cast<int64_t>(count) * 8;
  for (int k = 7; k >= 0; --k) {
    if (((p[i] >> k) & 1) == bit) return static_cast<int64_t>(i) * 8 + (7 - k);
  }
  return -1;  // unreachable: p[i] holds a bit equal to `bit`
}

// ---------------------------------------------------------------------------------------------
// SETBIT, GETBIT.

void SetBitCmd(ShardCommand& c) {
  uint64_t offset;
  if (!ParseBitOffset(c.reply, c.config, c.args[2], false, 0, &offset)) return;
  int64_t on;
  if (!cmd::ParseInt64(c.args[3], &on) || (on & ~int64_t{1}) != 0) {
    c.reply.Error(kBitValueErr);
    return;
  }
  bool grown;
  Entry* e = StringForBitWrite(c, offset, &grown);
  if (e == nullptr) return;
  char* bytes = c.db.ResizeString(e, e->str().size());  // the same size: just the bytes
  unsigned char& byte = reinterpret_cast<unsigned char&>(bytes[offset >> 3]);
  int shift = 7 - static_cast<int>(offset & 7);
  int old = (byte >> shift) & 1;
  byte = static_cast<unsigned char>((byte & ~(1 << shift)) | (on << shift));
  // As Redis 7.0: an event (and a touched WATCH) only when the string was created or grew, or
  // the bit changed.
  if (grown || old != on) NotifyKeyspaceEvent(c, kNotifyString, "setbit", c.args[1]);
  c.reply.Integer(old);
}

void GetBitCmd(ShardCommand& c) {
  uint64_t offset;
  if (!ParseBitOffset(c.reply, c.config, c.args[2], false, 0, &offset)) return;
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.Integer(0);
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  std::string_view s = e->str();
  size_t byte = offset >> 3;
  int bit = 0;
  if (byte < s.size()) bit = (Bytes(s)[byte] >> (7 - (offset & 7))) & 1;
  c.reply.Integer(bit);
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT, BITPOS.

// Parses the BYTE|BIT unit argument; false after a syntax error.
bool ParseUnit(ReplyBuilder& reply, std::string_view arg, bool* is_bit) {
  if (cmd::EqualsIgnoreCase(arg, "bit")) {
    *is_bit = true;
  } else if (cmd::EqualsIgnoreCase(arg, "byte")) {
    *is_bit = false;
  } else {
    reply.Error(cmd::kSyntaxErr);
    return false;
  }
  return true;
}

// Normalizes a [start, end] range over `total` units (negative counts from the end) the way
// BITCOUNT and BITPOS do; for a BIT range, converts it to bytes and sets the masks of the bits
// outside the range in the first and last bytes.
void NormalizeRange(int64_t total, bool is_bit, int64_t* start, int64_t* end,
                    unsigned char* first_mask, unsigned char* last_mask) {
  if (*start < 0) *start += total;
  if (*end < 0) *end += total;
  if (*start < 0) *start = 0;
  if (*end < 0) *end = 0;
  if (*end >= total) *end = total - 1;
  if (is_bit && *start <= *end) {
    *first_mask = static_cast<unsigned char>(~((1 << (8 - (*start & 7))) - 1) & 0xFF);
    *last_mask = static_cast<unsigned char>((1 << (7 - (*end & 7))) - 1);
    *start >>= 3;
    *end >>= 3;
  }
}

// BITCOUNT key [start end [BYTE|BIT]], in redis-server 7.0's order: the key is looked up first
// (a missing key counts 0 whatever the arguments), then the range is parsed.
void BitCountCmd(ShardCommand& c) {
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.Integer(0);
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  std::string_view s = e->str();
  int64_t len = static_cast<int64_t>(s.size());
  int64_t start, end;
  unsigned char first_mask = 0, last_mask = 0;
  size_t argc = c.args.size();
  if (argc == 4 || argc == 5) {
    if (!cmd::ParseInt64(c.args[2], &start) || !cmd::ParseInt64(c.args[3], &end)) {
      c.reply.Error(cmd::kNotIntErr);
      return;
    }
    if (start < 0 && end < 0 && start > end) {
      c.reply.Integer(0);
      return;
    }
    bool is_bit = false;
    if (argc == 5 && !ParseUnit(c.reply, c.args[4], &is_bit)) return;
    NormalizeRange(is_bit ? len << 3 : len, is_bit, &start, &end, &first_mask, &last_mask);
  } else if (argc == 2) {
    start = 0;
    end = len - 1;
  } else {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  if (start > end) {
    c.reply.Integer(0);
    return;
  }
  const unsigned char* p = Bytes(s);
  int64_t count = Popcount(p + start, static_cast<size_t>(end - start + 1));
  if (first_mask != 0 || last_mask != 0) {
    // Take off the bits of the first and last bytes that fall outside the BIT range.
    unsigned char outside[2] = {static_cast<unsigned char>(p[start] & first_mask),
                                static_cast<unsigned char>(p[end] & last_mask)};
    count -= Popcount(outside, 2);
  }
  c.reply.Integer(count);
}

// BITPOS key bit [start [end [BYTE|BIT]]], in redis-server 7.0's order: bit, key lookup, start,
// unit, end.
void BitPosCmd(ShardCommand& c) {
  int64_t bit;
  if (!cmd::ParseInt64(c.args[2], &bit)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (bit != 0 && bit != 1) {
    c.reply.Error("ERR The bit argument must be 1 or 0.");
    return;
  }
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {  // an infinite run of zeros
    c.reply.Integer(bit ? -1 : 0);
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  std::string_view s = e->str();
  int64_t len = static_cast<int64_t>(s.size());
  int64_t start, end;
  bool end_given = false;
  unsigned char first_mask = 0, last_mask = 0;
  size_t argc = c.args.size();
  if (argc >= 4 && argc <= 6) {
    if (!cmd::ParseInt64(c.args[3], &start)) {
      c.reply.Error(cmd::kNotIntErr);
      return;
    }
    bool is_bit = false;
    if (argc == 6 && !ParseUnit(c.reply, c.args[5], &is_bit)) return;
    if (argc >= 5) {
      if (!cmd::ParseInt64(c.args[4], &end)) {
        c.reply.Error(cmd::kNotIntErr);
        return;
      }
      end_given = true;
    } else {
      end = len - 1;
    }
    NormalizeRange(is_bit ? len << 3 : len, is_bit, &start, &end, &first_mask, &last_mask);
  } else if (argc == 3) {
    start = 0;
    end = len - 1;
  } else {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  if (start > end) {
    c.reply.Integer(-1);
    return;
  }
  const unsigned char* p = Bytes(s);
  int64_t bytes = end - start + 1;
  int64_t pos = -1;
  unsigned char tmp;
  bool done = false;
  if (first_mask != 0) {
    // The first byte, with the bits before the range forced to the value not looked for.
    tmp = bit ? (p[start] & ~first_mask) : (p[start] | first_mask);
    if (last_mask != 0 && bytes == 1) tmp = bit ? (tmp & ~last_mask) : (tmp | last_mask);
    pos = Bitpos(&tmp, 1, static_cast<int>(bit));
    done = bytes == 1 || (pos != -1 && pos != 8);
    if (!done) {
      ++start;
      --bytes;
    }
  }
  if (!done) {
    int64_t middle = bytes - (last_mask != 0 ? 1 : 0);
    if (middle > 0) {
      pos = Bitpos(p + start, static_cast<size_t>(middle), static_cast<int>(bit));
      done = bytes == middle || (pos != -1 && pos != middle << 3);
      if (!done) {
        start += middle;
        bytes -= middle;
      }
    }
  }
  if (!done) {
    // The last byte, with the bits after the range forced to the value not looked for.
    tmp = bit ? (p[end] & ~last_mask) : (p[end] | last_mask);
    pos = Bitpos(&tmp, 1, static_cast<int>(bit));
  }
  // With an explicit end, the zeros padding the string on the right are not part of the range.
  if (end_given && bit == 0 && pos == bytes << 3) {
    c.reply.Integer(-1);
    return;
  }
  if (pos != -1) pos += start << 3;
  c.reply.Integer(pos);
}

// ---------------------------------------------------------------------------------------------
// BITOP.

enum class BitOp { kAnd, kOr, kXor, kNot };

// Parses the operation and checks NOT's single source; false after an error reply.
bool ParseBitOp(ReplyBuilder& reply, ArgList args, BitOp* op) {
  std::string_view name = args[1];
  if (cmd::EqualsIgnoreCase(name, "and")) {
    *op = BitOp::kAnd;
  } else if (cmd::EqualsIgnoreCase(name, "or")) {
    *op = BitOp::kOr;
  } else if (cmd::EqualsIgnoreCase(name, "xor")) {
    *op = BitOp::kXor;
  } else if (cmd::EqualsIgnoreCase(name, "not")) {
    *op = BitOp::kNot;
  } else {
    reply.Error(cmd::kSyntaxErr);
    return false;
  }
  if (*op == BitOp::kNot && args.size() != 4) {
    reply.Error("ERR BITOP NOT must be called with a single source key.");
    return false;
  }
  return true;
}

// The result of `op` over the sources (missing keys are empty strings, shorter strings are
// padded with zeros): as long as the longest source.
std::string ComputeBitOp(BitOp op, const std::vector<std::string_view>& srcs) {
  size_t max_len = 0;
  for (std::string_view s : srcs) max_len = std::max(max_len, s.size());
  std::string res(max_len, '\0');
  auto byte_at = [](std::string_view s, size_t j) -> unsigned char {
    return j < s.size() ? static_cast<unsigned char>(s[j]) : 0;
  };
  for (size_t j = 0; j < max_len; ++j) {
    unsigned char out = byte_at(srcs[0], j);
    if (op == BitOp::kNot) out = static_cast<unsigned char>(~out);
    for (size_t i = 1; i < srcs.size(); ++i) {
      unsigned char b = byte_at(srcs[i], j);
      switch (op) {
        case BitOp::kAnd:
          out &= b;
          break;
        case BitOp::kOr:
          out |= b;
          break;
        case BitOp::kXor:
          out ^= b;
          break;
        case BitOp::kNot:
          break;
      }
    }
    res[j] = static_cast<char>(out);
  }
  return res;
}

// Stores BITOP's result at `dest` (a raw string without TTL), or deletes `dest` when empty.
void StoreBitOpResult(Db& db, std::string_view dest, std::string result) {
  if (result.empty()) {
    if (db.Erase(dest)) db.Notify(kNotifyGeneric, "del", dest);
    return;
  }
  Entry* e = db.Set(dest, Value::RawString(std::move(result)));
  e->set_access_time(db.now_ms());
  db.Notify(kNotifyString, "set", dest);
}

void BitOpShard(ShardCommand& c) {
  BitOp op;
  if (!ParseBitOp(c.reply, c.args, &op)) return;
  std::vector<std::string_view> srcs;
  for (size_t i = 3; i < c.args.size(); ++i) {
    Entry* e = c.db.Lookup(c.args[i]);
    if (e == nullptr) {
      srcs.emplace_back();
      continue;
    }
    if (!IsString(e)) {
      c.reply.Error(cmd::kWrongTypeErr);
      return;
    }
    srcs.emplace_back(e->str());
  }
  std::string result = ComputeBitOp(op, srcs);
  int64_t len = static_cast<int64_t>(result.size());
  StoreBitOpResult(c.db, c.args[2], std::move(result));
  c.reply.Integer(len);
}

struct BitOpSource {
  bool wrong_type = false;
  std::string value;  // empty for a missing key
};

struct BitOpState {
  BitOp op;
  std::string dest;
  int dest_shard;
  std::vector<std::string> keys;                  // the sources, in argument order
  std::vector<std::vector<size_t>> by_shard;      // shard -> indexes into keys
  std::vector<std::vector<BitOpSource>> fetched;  // shard -> what it found for its keys
  std::string result;
};

// Phase 1 copies every source from its shard; the result is computed here on the connection's
// thread; phase 2 stores it on the destination's shard.
void BitOpClient(ClientCommand& cmd) {
  auto st = std::make_shared<BitOpState>();
  if (!ParseBitOp(cmd.reply, cmd.args, &st->op)) return;
  st->dest = std::string(cmd.args[2]);
  st->dest_shard = cmd.ShardOf(cmd.args[2]);
  st->keys.assign(cmd.args.begin() + 3, cmd.args.end());
  st->by_shard.assign(cmd.shard_count(), {});
  for (size_t i = 0; i < st->keys.size(); ++i) st->by_shard[cmd.ShardOf(st->keys[i])].push_back(i);
  std::vector<int> shards;
  st->fetched.resize(st->by_shard.size());
  for (int s = 0; s < cmd.shard_count(); ++s) {
    if (st->by_shard[s].empty()) continue;
    shards.push_back(s);
    st->fetched[s].resize(st->by_shard[s].size());
  }
  cmd.RunOnShards(
      std::move(shards),
      [st](ShardAccess& a) {
        const std::vector<size_t>& mine = st->by_shard[a.shard_index];
        for (size_t k = 0; k < mine.size(); ++k) {
          BitOpSource& src = st->fetched[a.shard_index][k];
          Entry* e = a.db.Lookup(st->keys[mine[k]]);
          if (e == nullptr) continue;
          if (IsString(e)) {
            src.value = e->str();
          } else {
            src.wrong_type = true;
          }
        }
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        std::vector<std::string_view> srcs(st->keys.size());
        for (size_t s = 0; s < st->by_shard.size(); ++s) {
          for (size_t k = 0; k < st->by_shard[s].size(); ++k) {
            const BitOpSource& src = st->fetched[s][k];
            if (src.wrong_type) {
              reply.Error(cmd::kWrongTypeErr);
              return;
            }
            srcs[st->by_shard[s][k]] = src.value;
          }
        }
        st->result = ComputeBitOp(st->op, srcs);
        int64_t len = static_cast<int64_t>(st->result.size());
        runner.RunOnShards(
            {st->dest_shard},
            [st](ShardAccess& a) { StoreBitOpResult(a.db, st->dest, std::move(st->result)); },
            [len](ReplyBuilder& reply, FanOutRunner&) { reply.Integer(len); });
      });
}

// ---------------------------------------------------------------------------------------------
// BITFIELD, BITFIELD_RO.

enum class Overflow { kWrap, kSat, kFail };
enum class FieldOp { kGet, kSet, kIncrBy };

struct BitfieldOp {
  uint64_t offset;
  int64_t arg;  // SET's value or INCRBY's increment
  FieldOp op;
  Overflow overflow;
  int bits;
  bool is_signed;
};

// Reads `bits` bits at `offset`, big-endian, bytes past the end reading as zero.
uint64_t GetUnsignedField(std::string_view s, uint64_t offset, int bits) {
  const unsigned char* p = Bytes(s);
  uint64_t value = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    uint64_t byte = offset >> 3;
    uint64_t bit = byte < s.size() ? (p[byte] >> (7 - (offset & 7))) & 1 : 0;
    value = (value << 1) | bit;
  }
  return value;
}

int64_t GetSignedField(std::string_view s, uint64_t offset, int bits) {
  uint64_t u = GetUnsignedField(s, offset, bits);
  if (bits < 64 && (u & (uint64_t{1} << (bits - 1)))) u |= ~uint64_t{0} << bits;  // sign-extend
  return static_cast<int64_t>(u);
}

// Writes the low `bits` bits of `value` at `offset`; the string is long enough.
void SetField(char* s, uint64_t offset, int bits, uint64_t value) {
  for (int j = 0; j < bits; ++j, ++offset) {
    uint64_t bitval = (value >> (bits - 1 - j)) & 1;
    unsigned char& byte = reinterpret_cast<unsigned char&>(s[offset >> 3]);
    int shift = 7 - static_cast<int>(offset & 7);
    byte = static_cast<unsigned char>((byte & ~(1 << shift)) | (bitval << shift));
  }
}

// Redis's checkUnsignedBitfieldOverflow: 0 when value + incr fits in `bits` unsigned bits, else
// 1 (overflow) or -1 (underflow), with *limit set to the WRAP or SAT result.
int CheckUnsignedOverflow(uint64_t value, int64_t incr, int bits, Overflow owtype,
                          uint64_t* limit) {
  uint64_t max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  int64_t max_incr = static_cast<int64_t>(max - value);
  int64_t min_incr = static_cast<int64_t>(0 - value);
  int result = 0;
  if (value > max || (incr > 0 && incr > max_incr)) {
    result = 1;
    if (owtype == Overflow::kSat) *limit = max;
  } else if (incr < 0 && incr < min_incr) {
    result = -1;
    if (owtype == Overflow::kSat) *limit = 0;
  }
  if (result != 0 && owtype == Overflow::kWrap) {
    uint64_t mask = bits == 64 ? 0 : ~uint64_t{0} << bits;
    *limit = (value + static_cast<uint64_t>(incr)) & ~mask;
  }
  return result;
}

// Redis's checkSignedBitfieldOverflow, for `bits` signed bits.
int CheckSignedOverflow(int64_t value, int64_t incr, int bits, Overflow owtype, int64_t* limit) {
  int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  int64_t min = -max - 1;
  // Computed with wrap-around; each is used only where it cannot have wrapped.
  int64_t max_incr =
      static_cast<int64_t>(static_cast<uint64_t>(max) - static_cast<uint64_t>(value));
  int64_t min_incr =
      static_cast<int64_t>(static_cast<uint64_t>(min) - static_cast<uint64_t>(value));
  int result = 0;
  if (value > max || (bits != 64 && incr > max_incr) ||
      (value >= 0 && incr > 0 && incr > max_incr)) {
    result = 1;
    if (owtype == Overflow::kSat) *limit = max;
  } else if (value < min || (bits != 64 && incr < min_incr) ||
             (value < 0 && incr < 0 && incr < min_incr)) {
    result = -1;
    if (owtype == Overflow::kSat) *limit = min;
  }
  if (result != 0 && owtype == Overflow::kWrap) {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      uint64_t mask = ~uint64_t{0} << bits;
      if (c & (uint64_t{1} << (bits - 1))) {
        c |= mask;
      } else {
        c &= ~mask;
      }
    }
    *limit = static_cast<int64_t>(c);
  }
  return result;
}

// Redis's getBitfieldTypeFromArgument: "i1".."i64" or "u1".."u63".
bool ParseFieldType(ReplyBuilder& reply, std::string_view arg, bool* is_signed, int* bits) {
  int64_t n;
  if (arg.empty() || (arg[0] != 'i' && arg[0] != 'u') || !cmd::ParseInt64(arg.substr(1), &n) ||
      n < 1 || n > (arg[0] == 'i' ? 64 : 63)) {
    reply.Error(kBitfieldTypeErr);
    return false;
  }
  *is_signed = arg[0] == 'i';
  *bits = static_cast<int>(n);
  return true;
}

// Parses every subcommand of BITFIELD key [GET t o] [SET t o v] [INCRBY t o i] [OVERFLOW m]...;
// false after an error reply. *highest is the last bit a write touches, *writes whether any does.
bool ParseBitfieldOps(ShardCommand& c, std::vector<BitfieldOp>* ops, bool* writes,
                      uint64_t* highest) {
  Overflow owtype = Overflow::kWrap;
  *writes = false;
  *highest = 0;
  for (size_t j = 2; j < c.args.size(); ++j) {
    size_t remaining = c.args.size() - j - 1;
    std::string_view sub = c.args[j];
    FieldOp op;
    if (cmd::EqualsIgnoreCase(sub, "get") && remaining >= 2) {
      op = FieldOp::kGet;
    } else if (cmd::EqualsIgnoreCase(sub, "set") && remaining >= 3) {
      op = FieldOp::kSet;
    } else if (cmd::EqualsIgnoreCase(sub, "incrby") && remaining >= 3) {
      op = FieldOp::kIncrBy;
    } else if (cmd::EqualsIgnoreCase(sub, "overflow") && remaining >= 1) {
      std::string_view mode = c.args[++j];
      if (cmd::EqualsIgnoreCase(mode, "wrap")) {
        owtype = Overflow::kWrap;
      } else if (cmd::EqualsIgnoreCase(mode, "sat")) {
        owtype = Overflow::kSat;
      } else if (cmd::EqualsIgnoreCase(mode, "fail")) {
        owtype = Overflow::kFail;
      } else {
        c.reply.Error("ERR Invalid OVERFLOW type specified");
        return false;
      }
      continue;
    } else {
      c.reply.Error(cmd::kSyntaxErr);
      return false;
    }
    BitfieldOp field{0, 0, op, owtype, 0, false};
    if (!ParseFieldType(c.reply, c.args[j + 1], &field.is_signed, &field.bits)) return false;
    if (!ParseBitOffset(c.reply, c.config, c.args[j + 2], true, field.bits, &field.offset)) {
      return false;
    }
    if (op != FieldOp::kGet) {
      *writes = true;
      *highest = std::max(*highest, field.offset + field.bits - 1);
      if (!cmd::ParseInt64(c.args[j + 3], &field.arg)) {
        c.reply.Error(cmd::kNotIntErr);
        return false;
      }
    }
    ops->push_back(field);
    j += op == FieldOp::kGet ? 2 : 3;
  }
  return true;
}

// Runs one SET or INCRBY on `s`, replying with the old value (SET), the new value (INCRBY) or
// nil (overflow with FAIL, nothing written). Returns whether it wrote.
bool RunFieldWrite(const BitfieldOp& f, char* bytes, size_t size, ReplyBuilder& reply) {
  std::string_view s(bytes, size);
  int64_t wrapped = 0;
  if (f.is_signed) {
    int64_t old = GetSignedField(s, f.offset, f.bits);
    int64_t next, ret;
    int overflow;
    if (f.op == FieldOp::kIncrBy) {
      overflow = CheckSignedOverflow(old, f.arg, f.bits, f.overflow, &wrapped);
      next = overflow
                 ? wrapped
                 : static_cast<int64_t>(static_cast<uint64_t>(old) + static_cast<uint64_t>(f.arg));
      ret = next;
    } else {
      overflow = CheckSignedOverflow(f.arg, 0, f.bits, f.overflow, &wrapped);
      next = overflow ? wrapped : f.arg;
      ret = old;
    }
    if (overflow && f.overflow == Overflow::kFail) {
      reply.Null();
      return false;
    }
    reply.Integer(ret);
    SetField(bytes, f.offset, f.bits, static_cast<uint64_t>(next));
    return true;
  }
  uint64_t old = GetUnsignedField(s, f.offset, f.bits);
  uint64_t next, ret, uwrapped = 0;
  int overflow;
  if (f.op == FieldOp::kIncrBy) {
    overflow = CheckUnsignedOverflow(old, f.arg, f.bits, f.overflow, &uwrapped);
    next = overflow ? uwrapped : old + static_cast<uint64_t>(f.arg);
    ret = next;
  } else {
    next = static_cast<uint64_t>(f.arg);
    overflow = CheckUnsignedOverflow(next, 0, f.bits, f.overflow, &uwrapped);
    if (overflow) next = uwrapped;
    ret = old;
  }
  if (overflow && f.overflow == Overflow::kFail) {
    reply.Null();
    return false;
  }
  reply.Integer(static_cast<int64_t>(ret));
  SetField(bytes, f.offset, f.bits, next);
  return true;
}

void BitfieldGeneric(ShardCommand& c, bool read_only_command) {
  std::vector<BitfieldOp> ops;
  bool writes;
  uint64_t highest;
  if (!ParseBitfieldOps(c, &ops, &writes, &highest)) return;
  Entry* e;
  if (!writes) {
    e = c.db.Lookup(c.args[1]);
    if (e != nullptr && !IsString(e)) {
      c.reply.Error(cmd::kWrongTypeErr);
      return;
    }
  } else {
    if (read_only_command) {
      c.reply.Error("ERR BITFIELD_RO only supports the GET subcommand");
      return;
    }
    bool grown;
    e = StringForBitWrite(c, highest, &grown);
    if (e == nullptr) return;
  }
  c.reply.ArrayHeader(ops.size());
  bool changed = false;
  for (const BitfieldOp& f : ops) {
    if (f.op != FieldOp::kGet) {
      changed |= RunFieldWrite(f, c.db.ResizeString(e, e->str().size()), e->str().size(), c.reply);
      continue;
    }
    std::string_view s = e != nullptr ? e->str() : std::string_view();
    if (f.is_signed) {
      c.reply.Integer(GetSignedField(s, f.offset, f.bits));
    } else {
      c.reply.Integer(static_cast<int64_t>(GetUnsignedField(s, f.offset, f.bits)));
    }
  }
  if (changed) NotifyKeyspaceEvent(c, kNotifyString, "setbit", c.args[1]);
}

void BitfieldCmd(ShardCommand& c) { BitfieldGeneric(c, false); }
void BitfieldRoCmd(ShardCommand& c) { BitfieldGeneric(c, true); }

}  // namespace

void RegisterBitmapCommands(std::vector<CommandSpec>* table) {
  const std::vector<CommandSpec> specs = {
      {.name = "setbit",
       .arity = 4,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @bitmap @slow",
       .group = "bitmap",
       .summary = "Sets or clears the bit at offset in the string value stored at key",
       .since = "2.2.0",
       .on_shard = SetBitCmd},
      {.name = "getbit",
       .arity = 3,
       .flags = kCmdReadonly | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @bitmap @fast",
       .group = "bitmap",
       .summary = "Returns the bit value at offset in the string value stored at key",
       .since = "2.2.0",
       .on_shard = GetBitCmd},
      {.name = "bitcount",
       .arity = -2,
       .flags = kCmdReadonly,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @bitmap @slow",
       .group = "bitmap",
       .summary = "Count set bits in a string",
       .since = "2.6.0",
       .on_shard = BitCountCmd},
      {.name = "bitpos",
       .arity = -3,
       .flags = kCmdReadonly,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @bitmap @slow",
       .group = "bitmap",
       .summary = "Find first bit set or clear in a string",
       .since = "2.8.7",
       .on_shard = BitPosCmd},
      {.name = "bitop",
       .arity = -4,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 2,
       .last_key = -1,
       .key_step = 1,
       .acl_categories = "@write @bitmap @slow",
       .group = "bitmap",
       .summary = "Perform bitwise operations between strings",
       .since = "2.6.0",
       .on_shard = BitOpShard,
       .on_client = BitOpClient},
      {.name = "bitfield",
       .arity = -2,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @bitmap @slow",
       .group = "bitmap",
       .summary = "Perform arbitrary bitfield integer operations on strings",
       .since = "3.2.0",
       .on_shard = BitfieldCmd},
      {.name = "bitfield_ro",
       .arity = -2,
       .flags = kCmdReadonly | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @bitmap @fast",
       .group = "bitmap",
       .summary = "Perform arbitrary bitfield integer operations on strings. Read-only variant of "
                  "BITFIELD",
       .since = "6.0.0",
       .on_shard = BitfieldRoCmd},
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
