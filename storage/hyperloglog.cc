// HyperLogLog representation and algorithms, ported from redis-server 7.0's hyperloglog.c so that
// the bytes (sparse opcode sequences included) and the estimates are identical. See
// hyperloglog.h for the layout. Pure functions; any thread, on the strings it owns.
#include "storage/hyperloglog.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace shardis::hll {
namespace {

constexpr uint32_t kHashSeed = 0xadc83b19U;
constexpr size_t kDenseRegisterBytes = kDenseSize - kHeaderSize;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)

// Sparse opcodes: ZERO 00xxxxxx (1..64 zero registers), XZERO 01xxxxxx yyyyyyyy (1..16384 zero
// registers), VAL 1vvvvvxx (1..4 registers of value 1..32).
constexpr uint8_t kXZeroBit = 0x40;
constexpr uint8_t kValBit = 0x80;
constexpr int kSparseValMaxLen = 4;
constexpr int kSparseZeroMaxLen = 64;
constexpr int kSparseXZeroMaxLen = 16384;

bool IsZero(uint8_t op) { return (op & 0xc0) == 0; }
bool IsXZero(uint8_t op) { return (op & 0xc0) == kXZeroBit; }
bool IsVal(uint8_t op) { return (op & kValBit) != 0; }
int ZeroLen(uint8_t op) { return (op & 0x3f) + 1; }
int XZeroLen(uint8_t op, uint8_t next) { return (((op & 0x3f) << 8) | next) + 1; }
int ValValue(uint8_t op) { return ((op >> 2) & 0x1f) + 1; }
int ValLen(uint8_t op) { return (op & 0x3) + 1; }
uint8_t ValOp(int value, int len) {
  return static_cast<uint8_t>(((value - 1) << 2 | (len - 1)) | kValBit);
}
uint8_t ZeroOp(int len) { return static_cast<uint8_t>(len - 1); }
void XZeroOps(uint8_t* out, int len) {
  int l = len - 1;
  out[0] = static_cast<uint8_t>((l >> 8) | kXZeroBit);
  out[1] = static_cast<uint8_t>(l & 0xff);
}

// The byte at i, or 0 past the end (Redis reads the sds terminator there on corrupt input).
uint8_t ByteAt(const std::string& s, size_t i) {
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

uint8_t* Registers(std::string* hll) {
  return reinterpret_cast<uint8_t*>(hll->data()) + kHeaderSize;
}
const uint8_t* Registers(std::string_view hll) {
  return reinterpret_cast<const uint8_t*>(hll.data()) + kHeaderSize;
}

// hllPatLen: the register of `element` and the length of its 000..1 pattern.
int PatLen(std::string_view element, int* index) {
  uint64_t hash = MurmurHash64A(element.data(), static_cast<int>(element.size()), kHashSeed);
  *index = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;  // the loop ends, and count <= Q + 1
  uint64_t bit = 1;
  int count = 1;
  while ((hash & bit) == 0) {
    ++count;
    bit <<= 1;
  }
  return count;
}

// hllDenseSet: raises the register; 1 when it changed.
int DenseSetIfGreater(uint8_t* registers, int index, uint8_t count) {
  if (count > DenseGet(registers, index)) {
    DenseSet(registers, index, count);
    return 1;
  }
  return 0;
}

// hllSparseSet, step by step as Redis does it, so the resulting opcodes are the same bytes.
int SparseSet(std::string* hll, int index, uint8_t count, size_t sparse_max_bytes) {
  if (count > kSparseValMaxValue) {
    if (!SparseToDense(hll)) return -1;
    return DenseSetIfGreater(Registers(hll), index, count);
  }
  // Step 1: find the opcode covering register `index`.
  const size_t start = kHeaderSize;
  size_t end = hll->size();
  size_t p = start;
  long first = 0;
  long span = 0;
  bool has_prev = false;
  size_t prev = 0;
  while (p < end) {
    uint8_t op = ByteAt(*hll, p);
    size_t oplen = 1;
    if (IsZero(op)) {
      span = ZeroLen(op);
    } else if (IsVal(op)) {
      span = ValLen(op);
    } else {
      span = XZeroLen(op, ByteAt(*hll, p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    has_prev = true;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return -1;  // invalid format

  uint8_t op = ByteAt(*hll, p);
  bool is_zero = false, is_xzero = false, is_val = false;
  long runlen;
  if (IsZero(op)) {
    is_zero = true;
    runlen = ZeroLen(op);
  } else if (IsXZero(op)) {
    is_xzero = true;
    runlen = XZeroLen(op, ByteAt(*hll, p + 1));
  } else {
    is_val = true;
    runlen = ValLen(op);
  }

  // Step 2: the trivial updates. A) a VAL already >= count: nothing to do. B) a VAL of length 1:
  // update it. C) a ZERO of length 1: becomes a VAL of length 1.
  bool updated_in_place = false;
  if (is_val) {
    if (ValValue(op) >= count) return 0;
    if (runlen == 1) {
      (*hll)[p] = static_cast<char>(ValOp(count, 1));
      updated_in_place = true;
    }
  }
  if (!updated_in_place && is_zero && runlen == 1) {
    (*hll)[p] = static_cast<char>(ValOp(count, 1));
    updated_in_place = true;
  }

  if (!updated_in_place) {
    // D) General case: split the opcode into up to three (XZERO-VAL-XZERO at worst, 5 bytes).
    uint8_t seq[5];
    uint8_t* n = seq;
    long last = first + span - 1;
    if (is_zero || is_xzero) {
      if (index != first) {
        long len = index - first;
        if (len > kSparseZeroMaxLen) {
          XZeroOps(n, static_cast<int>(len));
          n += 2;
        } else {
          *n++ = ZeroOp(static_cast<int>(len));
        }
      }
      *n++ = ValOp(count, 1);
      if (index != last) {
        long len = last - index;
        if (len > kSparseZeroMaxLen) {
          XZeroOps(n, static_cast<int>(len));
          n += 2;
        } else {
          *n++ = ZeroOp(static_cast<int>(len));
        }
      }
    } else {
      int curval = ValValue(op);
      if (index != first) *n++ = ValOp(curval, static_cast<int>(index - first));
      *n++ = ValOp(count, 1);
      if (index != last) *n++ = ValOp(curval, static_cast<int>(last - index));
    }
    // Step 3: substitute the new sequence for the old opcode, or promote when too long.
    size_t seqlen = static_cast<size_t>(n - seq);
    size_t oldlen = is_xzero ? 2 : 1;
    if (seqlen > oldlen && hll->size() + (seqlen - oldlen) > sparse_max_bytes) {
      if (!SparseToDense(hll)) return -1;
      return DenseSetIfGreater(Registers(hll), index, count);
    }
    size_t replaced = std::min(oldlen, end - p);
    hll->replace(p, replaced, reinterpret_cast<const char*>(seq), seqlen);
    end = hll->size();
  }

  // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from the one
  // before the update.
  p = has_prev ? prev : start;
  int scanlen = 5;
  while (p < end && scanlen-- != 0) {
    uint8_t cur = ByteAt(*hll, p);
    if (IsXZero(cur)) {
      p += 2;
      continue;
    }
    if (IsZero(cur)) {
      ++p;
      continue;
    }
    if (p + 1 < end && IsVal(ByteAt(*hll, p + 1))) {
      uint8_t nxt = ByteAt(*hll, p + 1);
      int v1 = ValValue(cur);
      int v2 = ValValue(nxt);
      if (v1 == v2) {
        int len = ValLen(cur) + ValLen(nxt);
        if (len <= kSparseValMaxLen) {
          (*hll)[p + 1] = static_cast<char>(ValOp(v1, len));
          hll->erase(p, 1);
          --end;
          continue;  // try to merge the merged opcode with the next one
        }
      }
    }
    ++p;
  }
  InvalidateCache(hll);
  return 1;
}

// hllSigma and hllTau from Ertl, "New cardinality estimation algorithms for HyperLogLog
// sketches" (arXiv:1702.01284), as Redis computes them.
double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

uint64_t Estimate(const int* reghisto) {
  double m = kRegisters;
  double z = m * Tau((m - reghisto[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += reghisto[j];
    z *= 0.5;
  }
  z += m * Sigma(reghisto[0] / m);
  double e = static_cast<double>(std::llround(static_cast<long double>(kAlphaInf * m * m / z)));
  return static_cast<uint64_t>(e);
}

}  // namespace

uint64_t MurmurHash64A(const void* key, int len, uint32_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  uint64_t h = seed ^ (len * m);
  const uint8_t* data = static_cast<const uint8_t*>(key);
  const uint8_t* end = data + (len - (len & 7));
  while (data != end) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | data[i];  // little-endian load on any host
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    data += 8;
  }
  switch (len & 7) {
    case 7:
      h ^= static_cast<uint64_t>(data[6]) << 48;
      [[fallthrough]];
    case 6:
      h ^= static_cast<uint64_t>(data[5]) << 40;
      [[fallthrough]];
    case 5:
      h ^= static_cast<uint64_t>(data[4]) << 32;
      [[fallthrough]];
    case 4:
      h ^= static_cast<uint64_t>(data[3]) << 24;
      [[fallthrough]];
    case 3:
      h ^= static_cast<uint64_t>(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint64_t>(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint64_t>(data[0]);
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

bool IsValid(std::string_view s) {
  if (s.size() < kHeaderSize) return false;
  if (s.substr(0, 4) != "HYLL") return false;
  uint8_t encoding = EncodingOf(s);
  if (encoding > kSparse) return false;
  return encoding != kDense || s.size() == kDenseSize;
}

std::string CreateSparse() {
  std::string s(kHeaderSize, '\0');
  std::memcpy(s.data(), "HYLL", 4);
  s[4] = static_cast<char>(kSparse);
  for (int left = kRegisters; left > 0;) {
    int xzero = left < kSparseXZeroMaxLen ? left : kSparseXZeroMaxLen;
    uint8_t op[2];
    XZeroOps(op, xzero);
    s.append(reinterpret_cast<const char*>(op), 2);
    left -= xzero;
  }
  return s;
}

uint8_t DenseGet(const uint8_t* registers, int index) {
  size_t byte = static_cast<size_t>(index) * kBits / 8;
  unsigned fb = (static_cast<unsigned>(index) * kBits) & 7;
  unsigned fb8 = 8 - fb;
  unsigned b0 = registers[byte];
  // The next byte only matters when the register straddles two bytes (never for the last one).
  unsigned b1 = byte + 1 < kDenseRegisterBytes ? registers[byte + 1] : 0;
  return static_cast<uint8_t>(((b0 >> fb) | (b1 << fb8)) & kRegisterMax);
}

void DenseSet(uint8_t* registers, int index, uint8_t value) {
  size_t byte = static_cast<size_t>(index) * kBits / 8;
  unsigned fb = (static_cast<unsigned>(index) * kBits) & 7;
  unsigned fb8 = 8 - fb;
  unsigned v = value;
  registers[byte] &= static_cast<uint8_t>(~(kRegisterMax << fb));
  registers[byte] |= static_cast<uint8_t>(v << fb);
  if (byte + 1 < kDenseRegisterBytes) {
    registers[byte + 1] &= static_cast<uint8_t>(~(kRegisterMax >> fb8));
    registers[byte + 1] |= static_cast<uint8_t>(v >> fb8);
  }
}

int Add(std::string* hll, std::string_view element, size_t sparse_max_bytes) {
  int index;
  uint8_t count = static_cast<uint8_t>(PatLen(element, &index));
  return SetRegister(hll, index, count, sparse_max_bytes);
}

int SetRegister(std::string* hll, int index, uint8_t count, size_t sparse_max_bytes) {
  switch (EncodingOf(*hll)) {
    case kDense:
      return DenseSetIfGreater(Registers(hll), index, count);
    case kSparse:
      return SparseSet(hll, index, count, sparse_max_bytes);
    default:
      return -1;
  }
}

bool SparseToDense(std::string* hll) {
  if (EncodingOf(*hll) == kDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), hll->data(), kHeaderSize);  // magic and cached cardinality
  dense[4] = static_cast<char>(kDense);
  uint8_t* registers = Registers(&dense);
  const uint8_t* p = Registers(*hll);
  const uint8_t* end = reinterpret_cast<const uint8_t*>(hll->data()) + hll->size();
  long idx = 0;
  while (p < end) {
    if (IsZero(*p)) {
      idx += ZeroLen(*p);
      ++p;
    } else if (IsXZero(*p)) {
      idx += XZeroLen(*p, p + 1 < end ? p[1] : 0);
      p += 2;
    } else {
      int runlen = ValLen(*p);
      int regval = ValValue(*p);
      if (runlen + idx > kRegisters) break;  // overflow
      while (runlen-- > 0)
        DenseSet(registers, static_cast<int>(idx++), static_cast<uint8_t>(regval));
      ++p;
    }
  }
  if (idx != kRegisters) return false;
  *hll = std::move(dense);
  return true;
}

bool Count(std::string_view hll, uint64_t* card) {
  int reghisto[64] = {0};
  if (EncodingOf(hll) == kDense) {
    const uint8_t* registers = Registers(hll);
    for (int j = 0; j < kRegisters; ++j) ++reghisto[DenseGet(registers, j)];
  } else {
    const uint8_t* p = Registers(hll);
    const uint8_t* end = reinterpret_cast<const uint8_t*>(hll.data()) + hll.size();
    long idx = 0;
    while (p < end) {
      if (IsZero(*p)) {
        int runlen = ZeroLen(*p);
        idx += runlen;
        reghisto[0] += runlen;
        ++p;
      } else if (IsXZero(*p)) {
        int runlen = XZeroLen(*p, p + 1 < end ? p[1] : 0);
        idx += runlen;
        reghisto[0] += runlen;
        p += 2;
      } else {
        int runlen = ValLen(*p);
        idx += runlen;
        reghisto[ValValue(*p)] += runlen;
        ++p;
      }
    }
    if (idx != kRegisters) return false;
  }
  *card = Estimate(reghisto);
  return true;
}

uint64_t CountRaw(const RawRegisters& registers) {
  int reghisto[64] = {0};
  for (uint8_t r : registers) ++reghisto[r & 63];
  return Estimate(reghisto);
}

bool Merge(RawRegisters* max, std::string_view hll) {
  RawRegisters& m = *max;
  if (EncodingOf(hll) == kDense) {
    const uint8_t* registers = Registers(hll);
    for (int i = 0; i < kRegisters; ++i) {
      uint8_t val = DenseGet(registers, i);
      if (val > m[i]) m[i] = val;
    }
    return true;
  }
  const uint8_t* p = Registers(hll);
  const uint8_t* end = reinterpret_cast<const uint8_t*>(hll.data()) + hll.size();
  long i = 0;
  while (p < end) {
    if (IsZero(*p)) {
      i += ZeroLen(*p);
      ++p;
    } else if (IsXZero(*p)) {
      i += XZeroLen(*p, p + 1 < end ? p[1] : 0);
      p += 2;
    } else {
      int runlen = ValLen(*p);
      uint8_t regval = static_cast<uint8_t>(ValValue(*p));
      if (runlen + i > kRegisters) break;  // overflow
      while (runlen-- > 0) {
        if (regval > m[i]) m[i] = regval;
        ++i;
      }
      ++p;
    }
  }
  return i == kRegisters;
}

bool Store(std::string* hll, const RawRegisters& max, bool to_dense, size_t sparse_max_bytes) {
  if (to_dense && !SparseToDense(hll)) return false;
  for (int j = 0; j < kRegisters; ++j) {
    if (max[j] == 0) continue;
    // As Redis, a failed sparse update is not reported here: the destination was validated.
    SetRegister(hll, j, max[j], sparse_max_bytes);
  }
  InvalidateCache(hll);
  return true;
}

bool CachedCardinality(std::string_view hll, uint64_t* card) {
  if ((static_cast<uint8_t>(hll[15]) & 0x80) != 0) return false;
  uint64_t c = 0;
  for (int i = 7; i >= 0; --i) c = (c << 8) | static_cast<uint8_t>(hll[8 + i]);
  *card = c;
  return true;
}

void SetCachedCardinality(char* hll, uint64_t card) {
  for (int i = 0; i < 8; ++i) hll[8 + i] = static_cast<char>((card >> (8 * i)) & 0xff);
}

void InvalidateCache(char* hll) {
  hll[15] = static_cast<char>(static_cast<uint8_t>(hll[15]) | 0x80);
}

void SetCachedCardinality(std::string* hll, uint64_t card) {
  SetCachedCardinality(hll->data(), card);
}

void InvalidateCache(std::string* hll) { InvalidateCache(hll->data()); }

int AddDense(char* hll, std::string_view element) {
  int index;
  auto count = static_cast<uint8_t>(PatLen(element, &index));
  return DenseSetIfGreater(reinterpret_cast<uint8_t*>(hll) + kHeaderSize, index, count);
}

std::string DecodeSparse(std::string_view hll) {
  std::string out;
  const uint8_t* p = Registers(hll);
  const uint8_t* end = reinterpret_cast<const uint8_t*>(hll.data()) + hll.size();
  while (p < end) {
    if (IsZero(*p)) {
      out += "z:" + std::to_string(ZeroLen(*p)) + " ";
      ++p;
    } else if (IsXZero(*p)) {
      out += "Z:" + std::to_string(XZeroLen(*p, p + 1 < end ? p[1] : 0)) + " ";
      p += 2;
    } else {
      out += "v:" + std::to_string(ValValue(*p)) + "," + std::to_string(ValLen(*p)) + " ";
      ++p;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace shardis::hll
