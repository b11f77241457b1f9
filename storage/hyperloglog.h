// HyperLogLog: redis-server 7.0's exact HLL representation and algorithms, operating on the bytes
// of a string value (a HyperLogLog is a plain Redis string, TYPE string), so that HLLs move between
// Shardis and Redis with GET/SET/DUMP and give the same PFCOUNT for the same inputs.
//
// Layout (hyperloglog.c): a 16-byte header "HYLL", encoding byte (0 dense, 1 sparse), 3 unused
// bytes, then the cached cardinality (8 bytes little endian; the top bit of the last byte set
// means "stale"); then either 16384 6-bit registers packed LSB first (dense, 12288 bytes), or a
// run-length sequence of ZERO / XZERO / VAL opcodes (sparse). Elements are hashed with
// MurmurHash64A, seed 0xadc83b19: the low 14 bits pick the register, the run of zeros after them
// (plus one) is the register's candidate value. A sparse HLL is promoted to dense when a value
// exceeds 32 or the string would grow past hll-sparse-max-bytes.
//
// Pure functions over strings, no shared state: used on the thread that owns the value (PFADD,
// PFCOUNT of one key, PFMERGE's destination), or on copies and register arrays anywhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shardis::hll {

inline constexpr int kP = 14;               // register index bits
inline constexpr int kRegisters = 1 << kP;  // 16384
inline constexpr int kQ = 64 - kP;          // bits left for the zero run
inline constexpr int kBits = 6;             // bits per dense register
inline constexpr int kRegisterMax = (1 << kBits) - 1;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kDenseSize = kHeaderSize + (kRegisters * kBits + 7) / 8;  // 12304
inline constexpr uint8_t kDense = 0;
inline constexpr uint8_t kSparse = 1;
inline constexpr int kSparseValMaxValue = 32;

// One byte per register: the working form of PFCOUNT over several keys and of PFMERGE.
using RawRegisters = std::array<uint8_t, kRegisters>;

// Redis's MurmurHash64A (endian-neutral variant).
uint64_t MurmurHash64A(const void* key, int len, uint32_t seed);

// The header checks of Redis's isHLLObjectOrReply: long enough, "HYLL", a known encoding, and
// exactly kDenseSize bytes when dense. (The caller also rejects int-encoded strings.)
bool IsValid(std::string_view s);
// Encoding byte of a valid HLL.
inline uint8_t EncodingOf(std::string_view s) { return static_cast<uint8_t>(s[4]); }

// A new, empty sparse HLL (createHLLObject): the header and XZERO opcodes covering every register.
std::string CreateSparse();

// Adds one element (hllAdd): 1 when a register changed, 0 when none did, -1 when the sparse
// representation is corrupt. May promote a sparse HLL to dense.
int Add(std::string* hll, std::string_view element, size_t sparse_max_bytes);
// Raises register `index` to `count` if lower (hllDenseSet / hllSparseSet). Same results as Add.
int SetRegister(std::string* hll, int index, uint8_t count, size_t sparse_max_bytes);
// Converts a sparse HLL to dense in place (a dense one is left alone). False when corrupt.
bool SparseToDense(std::string* hll);

// The estimated cardinality of a valid HLL (hllCount). False when the sparse form is corrupt.
bool Count(std::string_view hll, uint64_t* card);
// The estimated cardinality of raw registers.
uint64_t CountRaw(const RawRegisters& registers);
// max[i] = MAX(max[i], hll[i]) over every register (hllMerge). False when corrupt.
bool Merge(RawRegisters* max, std::string_view hll);
// Writes merged registers into a valid HLL (PFMERGE's destination): converts it to dense first
// when `to_dense`, raises every register to `max`, and invalidates the cached cardinality.
// False when the destination is corrupt.
bool Store(std::string* hll, const RawRegisters& max, bool to_dense, size_t sparse_max_bytes);

// The cached cardinality in the header, when it is not stale.
bool CachedCardinality(std::string_view hll, uint64_t* card);
void SetCachedCardinality(std::string* hll, uint64_t card);
void InvalidateCache(std::string* hll);
// The same on the bytes of an HLL held elsewhere (the keyspace's value block), in place.
void SetCachedCardinality(char* hll, uint64_t card);
void InvalidateCache(char* hll);
// Add() on a dense HLL's bytes, in place (a dense HLL never changes size).
int AddDense(char* hll, std::string_view element);

// Dense register access (6-bit registers, LSB first); `registers` holds kDenseSize - kHeaderSize
// bytes.
uint8_t DenseGet(const uint8_t* registers, int index);
void DenseSet(uint8_t* registers, int index, uint8_t value);

// PFDEBUG DECODE: the opcodes of a sparse HLL as "Z:16384 v:1,1 z:3", Redis's format.
std::string DecodeSparse(std::string_view hll);

}  // namespace shardis::hll
