// LZF encoder and decoder (see lzf.h). The encoder makes the very choices of liblzf 3.6 as
// Redis builds it (HLOG 16, VERY_FAST), so DUMP payloads and RDB strings come out byte for byte
// as redis-server's: one probe in a hash table of the last position of each 3-byte sequence, a
// match never refers to the input's first byte and never takes its last two (unless its
// 16-byte fast path ran past them), and after a match only its last two positions are indexed.
// Its output limit is checked as liblzf's (conservatively), since Redis stores a string raw
// when compression "does not fit" in len - 4 bytes. The table is per thread and reused: each
// slot carries the call's stamp, so no clearing and no allocation per call, and an entry of an
// earlier call is no candidate (as liblzf's clean table).
#include "storage/rdb/lzf.h"

#include <cstring>
#include <memory>

namespace shardis::rdb {
namespace {

constexpr size_t kMaxLiteral = 32;
constexpr size_t kMaxOffset = 8192;
constexpr size_t kMaxRef = 264;  // (7 + 255) + 2
constexpr int kHashLog = 16;
constexpr size_t kHashSize = size_t{1} << kHashLog;

// liblzf's hash of the three bytes in the low 24 bits of `h` (VERY_FAST's IDX).
inline size_t HashIndex(uint32_t h) {
  return ((h >> (3 * 8 - kHashLog)) - h * 5) & (kHashSize - 1);
}

}  // namespace

size_t LzfCompress(std::string_view input, uint8_t* out, size_t out_cap) {
  const uint8_t* in = reinterpret_cast<const uint8_t*>(input.data());
  const size_t n = input.size();
  if (n == 0 || out_cap == 0) return 0;
  // Slot: (stamp << 32) | position. A new stamp per call makes every older entry stale.
  thread_local std::unique_ptr<uint64_t[]> table_holder;
  thread_local uint32_t stamp = 0;
  if (table_holder == nullptr) table_holder.reset(new uint64_t[kHashSize]());
  uint64_t* table = table_holder.get();
  if (++stamp == 0) {  // wrapped: clear once every 2^32 calls
    memset(table, 0, kHashSize * sizeof(uint64_t));
    stamp = 1;
  }
  const uint64_t tag = uint64_t{stamp} << 32;
  auto lookup = [&](size_t slot, size_t* ref) {
    uint64_t e = table[slot];
    if ((e & ~uint64_t{0xffffffff}) != tag) return false;
    *ref = static_cast<uint32_t>(e);
    return true;
  };
  auto store = [&](size_t slot, size_t pos) { table[slot] = tag | static_cast<uint32_t>(pos); };

  // `op` is where the next byte goes; the pending literal run's control byte is at op - lit - 1
  // (a run is always open, as in liblzf: its control byte reserved before its bytes).
  size_t op = 1;
  size_t lit = 0;
  size_t ip = 0;
  // Copies one input byte into the open literal run, closing a full run and opening the next.
  auto copy_literal = [&] {
    ++lit;
    out[op++] = in[ip++];
    if (lit == kMaxLiteral) {
      out[op - lit - 1] = static_cast<uint8_t>(lit - 1);
      lit = 0;
      ++op;
    }
  };
  uint32_t hval = (uint32_t{in[0]} << 8) | (n > 1 ? in[1] : 0);
  while (n >= 3 && ip < n - 2) {
    hval = (hval << 8) | in[ip + 2];
    const size_t slot = HashIndex(hval);
    size_t ref = 0;
    const bool known = lookup(slot, &ref);
    store(slot, ip);
    if (known && ref < ip && ip - ref - 1 < kMaxOffset && ref > 0 && in[ref + 2] == in[ip + 2] &&
        in[ref] == in[ip] && in[ref + 1] == in[ip + 1]) {
      const size_t off = ip - ref - 1;
      size_t len = 2;
      size_t maxlen = n - ip - len;
      if (maxlen > kMaxRef) maxlen = kMaxRef;
      if (op + 3 + 1 >= out_cap && op - (lit == 0 ? 1 : 0) + 3 + 1 >= out_cap) return 0;
      out[op - lit - 1] = static_cast<uint8_t>(lit - 1);  // close the run
      if (lit == 0) --op;                                 // (an empty one is dropped)
      bool done = false;
      if (maxlen > 16) {  // liblzf's unrolled first 16 steps: no bound check inside
        for (int i = 0; i < 16; ++i) {
          ++len;
          if (in[ref + len] != in[ip + len]) {
            done = true;
            break;
          }
        }
      }
      if (!done) {
        do {
          ++len;
        } while (len < maxlen && in[ref + len] == in[ip + len]);
      }
      len -= 2;  // the copy is len + 2 bytes
      ++ip;
      if (len < 7) {
        out[op++] = static_cast<uint8_t>((off >> 8) + (len << 5));
      } else {
        out[op++] = static_cast<uint8_t>((off >> 8) + (7 << 5));
        out[op++] = static_cast<uint8_t>(len - 7);
      }
      out[op++] = static_cast<uint8_t>(off);
      lit = 0;
      ++op;  // open a run
      ip += len + 1;
      if (ip >= n - 2) break;
      // Index the match's last two positions only.
      ip -= 2;
      hval = (uint32_t{in[ip]} << 8) | in[ip + 1];
      hval = (hval << 8) | in[ip + 2];
      store(HashIndex(hval), ip);
      ++ip;
      hval = (hval << 8) | in[ip + 2];
      store(HashIndex(hval), ip);
      ++ip;
    } else {
      if (op >= out_cap) return 0;
      copy_literal();
    }
  }
  if (op + 3 > out_cap) return 0;
  while (ip < n) copy_literal();
  out[op - lit - 1] = static_cast<uint8_t>(lit - 1);  // close the last run
  if (lit == 0) --op;
  return op;
}

bool LzfDecompress(std::string_view input, size_t out_len, std::string* out) {
  const uint8_t* in = reinterpret_cast<const uint8_t*>(input.data());
  const size_t n = input.size();
  out->resize(out_len);
  char* dst = out->data();
  size_t ip = 0;
  size_t op = 0;
  while (ip < n) {
    uint32_t ctrl = in[ip++];
    if (ctrl < 32) {
      size_t run = ctrl + 1;
      if (ip + run > n || op + run > out_len) return false;
      memcpy(dst + op, in + ip, run);
      ip += run;
      op += run;
    } else {
      size_t len = ctrl >> 5;
      if (len == 7) {
        if (ip >= n) return false;
        len += in[ip++];
      }
      len += 2;
      if (ip >= n) return false;
      size_t back = ((ctrl & 0x1f) << 8) + in[ip++] + 1;
      if (back > op || op + len > out_len) return false;
      // Byte by byte: source and destination overlap when back < len (a repeated pattern).
      for (size_t i = 0; i < len; ++i) dst[op + i] = dst[op - back + i];
      op += len;
    }
  }
  return op == out_len;
}

}  // namespace shardis::rdb
