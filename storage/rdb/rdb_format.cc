// RDB primitives: lengths, strings, doubles, listpack / ziplist / zipmap / intset blobs (see
// rdb_format.h).
#include "storage/rdb/rdb_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "storage/rdb/lzf.h"
#include "storage/value.h"

namespace shardis::rdb {
namespace {

void PutLE(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetLE(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// Sign-extends the low `bits` bits of v.
int64_t SignExtend(uint64_t v, int bits) {
  if (bits == 64) return static_cast<int64_t>(v);
  uint64_t sign = uint64_t{1} << (bits - 1);
  return v & sign ? static_cast<int64_t>(v) - static_cast<int64_t>(uint64_t{1} << bits)
                  : static_cast<int64_t>(v);
}

std::string IntText(int64_t v) {
  char buf[24];
  int n = snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  return std::string(buf, n);
}

}  // namespace

bool ParseCanonicalInt(std::string_view s, int64_t* v) { return IsCanonicalInt(s, v); }

std::string FormatScore(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0 /* 2^53 */) {
    if (v == 0) return std::signbit(v) ? "-0" : "0";
    return IntText(static_cast<int64_t>(v));
  }
  int n = snprintf(buf, sizeof(buf), "%.17g", v);
  return std::string(buf, n);
}

// ---------------------------------------------------------------------------------------------
// Writer

void Writer::Len(uint64_t len) {
  if (len < 64) {
    U8(static_cast<uint8_t>(len));
  } else if (len < 16384) {
    U8(static_cast<uint8_t>(0x40 | (len >> 8)));
    U8(static_cast<uint8_t>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    U8(0x80);
    for (int i = 3; i >= 0; --i) U8(static_cast<uint8_t>(len >> (8 * i)));
  } else {
    U8(0x81);
    for (int i = 7; i >= 0; --i) U8(static_cast<uint8_t>(len >> (8 * i)));
  }
}

void Writer::RawString(std::string_view s) {
  Len(s.size());
  Raw(s);
}

void Writer::String(std::string_view s, bool compress) {
  int64_t v;
  if (s.size() <= 11 && ParseCanonicalInt(s, &v)) {
    if (v >= -128 && v <= 127) {
      U8(0xC0);
      PutLE(out_, static_cast<uint64_t>(v), 1);
      return;
    }
    if (v >= -32768 && v <= 32767) {
      U8(0xC1);
      PutLE(out_, static_cast<uint64_t>(v), 2);
      return;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
      U8(0xC2);
      PutLE(out_, static_cast<uint64_t>(v), 4);
      return;
    }
  }
  if (compress && s.size() > 20) {
    std::string buf(s.size() - 4, '\0');
    size_t n = LzfCompress(s, reinterpret_cast<uint8_t*>(buf.data()), buf.size());
    if (n > 0) {
      U8(0xC3);
      Len(n);
      Len(s.size());
      Raw(std::string_view(buf.data(), n));
      return;
    }
  }
  RawString(s);
}

void Writer::BinaryDouble(double v) {
  uint64_t bits;
  memcpy(&bits, &v, 8);
  PutLE(out_, bits, 8);
}

void Writer::MillisLE(int64_t v) { PutLE(out_, static_cast<uint64_t>(v), 8); }

// ---------------------------------------------------------------------------------------------
// Reader

bool Reader::Fail(std::string_view what) {
  if (error_.empty()) {
    error_ = std::string(what) + " at offset " + std::to_string(file_offset());
  }
  return false;
}

bool Reader::U8(uint8_t* v) {
  if (pos_ >= data_.size()) return Fail("unexpected end of data");
  *v = static_cast<uint8_t>(data_[pos_++]);
  return true;
}

bool Reader::Raw(size_t n, std::string_view* out) {
  if (n > remaining())
    return Fail("unexpected end of data (a " + std::to_string(n) + "-byte field)");
  *out = data_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool Reader::Len(uint64_t* len, bool* encoded) {
  uint8_t b = 0;
  if (!U8(&b)) return false;
  if (encoded != nullptr) *encoded = false;
  switch (b >> 6) {
    case 0:
      *len = b & 0x3f;
      return true;
    case 1: {
      uint8_t b2 = 0;
      if (!U8(&b2)) return false;
      *len = (uint64_t{b & 0x3fu} << 8) | b2;
      return true;
    }
    case 2: {
      int n;
      if (b == 0x80) {
        n = 4;
      } else if (b == 0x81) {
        n = 8;
      } else {
        --pos_;
        return Fail("invalid length encoding");
      }
      std::string_view raw;
      if (!Raw(n, &raw)) return false;
      uint64_t v = 0;
      for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(raw[i]);
      *len = v;
      return true;
    }
    default:
      // 11xxxxxx: a special string encoding. Where a plain length is expected Redis's
      // rdbLoadLen takes its low 6 bits all the same (it accepts such payloads), as here.
      if (encoded != nullptr) *encoded = true;
      *len = b & 0x3f;
      return true;
  }
}

bool Reader::String(std::string* out) {
  uint64_t len;
  bool encoded;
  size_t start = pos_;
  if (!Len(&len, &encoded)) return false;
  if (!encoded) {
    std::string_view raw;
    if (!Raw(len, &raw)) return false;
    out->assign(raw);
    return true;
  }
  std::string_view raw;
  switch (len) {
    case 0:
    case 1:
    case 2: {
      int bytes = 1 << len;
      if (!Raw(bytes, &raw)) return false;
      int64_t v =
          SignExtend(GetLE(reinterpret_cast<const unsigned char*>(raw.data()), bytes), 8 * bytes);
      *out = IntText(v);
      return true;
    }
    case 3: {
      uint64_t clen, ulen;
      if (!Len(&clen) || !Len(&ulen)) return false;
      if (ulen > clen * 100 + 64) {
        pos_ = start;
        return Fail("implausible LZF string length");
      }
      if (!Raw(clen, &raw)) return false;
      if (!LzfDecompress(raw, ulen, out)) {
        pos_ = start;
        return Fail("invalid LZF-compressed string");
      }
      return true;
    }
    default:
      pos_ = start;
      return Fail("unknown string encoding");
  }
}

bool Reader::BinaryDouble(double* v) {
  std::string_view raw;
  if (!Raw(8, &raw)) return false;
  uint64_t bits = GetLE(reinterpret_cast<const unsigned char*>(raw.data()), 8);
  memcpy(v, &bits, 8);
  return true;
}

bool Reader::StringDouble(double* v) {
  uint8_t len = 0;
  if (!U8(&len)) return false;
  if (len == 253) {
    *v = NAN;
    return true;
  }
  if (len == 254) {
    *v = INFINITY;
    return true;
  }
  if (len == 255) {
    *v = -INFINITY;
    return true;
  }
  std::string_view raw;
  if (!Raw(len, &raw)) return false;
  std::string text(raw);
  char* end = nullptr;
  *v = strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return Fail("invalid double");
  return true;
}

bool Reader::MillisLE(int64_t* v) {
  std::string_view raw;
  if (!Raw(8, &raw)) return false;
  *v = static_cast<int64_t>(GetLE(reinterpret_cast<const unsigned char*>(raw.data()), 8));
  return true;
}

bool Reader::U32LE(uint32_t* v) {
  std::string_view raw;
  if (!Raw(4, &raw)) return false;
  *v = static_cast<uint32_t>(GetLE(reinterpret_cast<const unsigned char*>(raw.data()), 4));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Listpack

ListpackBuilder::ListpackBuilder() { buf_.assign(6, '\0'); }

void ListpackBuilder::Backlen(size_t l) {
  if (l <= 127) {
    buf_.push_back(static_cast<char>(l));
  } else if (l < 16383) {
    buf_.push_back(static_cast<char>(l >> 7));
    buf_.push_back(static_cast<char>((l & 127) | 128));
  } else if (l < 2097151) {
    buf_.push_back(static_cast<char>(l >> 14));
    buf_.push_back(static_cast<char>(((l >> 7) & 127) | 128));
    buf_.push_back(static_cast<char>((l & 127) | 128));
  } else if (l < 268435455) {
    buf_.push_back(static_cast<char>(l >> 21));
    buf_.push_back(static_cast<char>(((l >> 14) & 127) | 128));
    buf_.push_back(static_cast<char>(((l >> 7) & 127) | 128));
    buf_.push_back(static_cast<char>((l & 127) | 128));
  } else {
    buf_.push_back(static_cast<char>(l >> 28));
    buf_.push_back(static_cast<char>(((l >> 21) & 127) | 128));
    buf_.push_back(static_cast<char>(((l >> 14) & 127) | 128));
    buf_.push_back(static_cast<char>(((l >> 7) & 127) | 128));
    buf_.push_back(static_cast<char>((l & 127) | 128));
  }
}

void ListpackBuilder::AppendInt(int64_t v) {
  size_t start = buf_.size();
  if (v >= 0 && v <= 127) {
    buf_.push_back(static_cast<char>(v));
  } else if (v >= -4096 && v <= 4095) {
    uint64_t uv = v < 0 ? (uint64_t{1} << 13) + v : static_cast<uint64_t>(v);
    buf_.push_back(static_cast<char>(0xC0 | (uv >> 8)));
    buf_.push_back(static_cast<char>(uv & 0xff));
  } else if (v >= -32768 && v <= 32767) {
    buf_.push_back(static_cast<char>(0xF1));
    PutLE(&buf_, static_cast<uint64_t>(v), 2);
  } else if (v >= -8388608 && v <= 8388607) {
    buf_.push_back(static_cast<char>(0xF2));
    PutLE(&buf_, static_cast<uint64_t>(v), 3);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    buf_.push_back(static_cast<char>(0xF3));
    PutLE(&buf_, static_cast<uint64_t>(v), 4);
  } else {
    buf_.push_back(static_cast<char>(0xF4));
    PutLE(&buf_, static_cast<uint64_t>(v), 8);
  }
  Backlen(buf_.size() - start);
  ++count_;
}

void ListpackBuilder::Append(std::string_view s) {
  int64_t v;
  if (s.size() <= 20 && ParseCanonicalInt(s, &v)) {
    AppendInt(v);
    return;
  }
  size_t start = buf_.size();
  size_t len = s.size();
  if (len < 64) {
    buf_.push_back(static_cast<char>(0x80 | len));
  } else if (len < 4096) {
    buf_.push_back(static_cast<char>(0xE0 | (len >> 8)));
    buf_.push_back(static_cast<char>(len & 0xff));
  } else {
    buf_.push_back(static_cast<char>(0xF0));
    PutLE(&buf_, len, 4);
  }
  buf_.append(s);
  Backlen(buf_.size() - start);
  ++count_;
}

std::string ListpackBuilder::Finish() {
  buf_.push_back(static_cast<char>(0xFF));
  uint64_t total = buf_.size();
  for (int i = 0; i < 4; ++i) buf_[i] = static_cast<char>((total >> (8 * i)) & 0xff);
  uint64_t n = count_ < 65535 ? count_ : 65535;
  buf_[4] = static_cast<char>(n & 0xff);
  buf_[5] = static_cast<char>(n >> 8);
  std::string out = std::move(buf_);
  buf_.assign(6, '\0');
  count_ = 0;
  return out;
}

namespace {
size_t BacklenSize(size_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}
}  // namespace

bool ListpackElements(std::string_view lp, std::vector<std::string>* out, std::string* error) {
  const auto* p = reinterpret_cast<const unsigned char*>(lp.data());
  const size_t n = lp.size();
  if (n < 7) {
    *error = "listpack too short";
    return false;
  }
  if (GetLE(p, 4) != n) {
    *error = "listpack size mismatch";
    return false;
  }
  if (p[n - 1] != 0xFF) {
    *error = "listpack without terminator";
    return false;
  }
  size_t declared = GetLE(p + 4, 2);
  size_t pos = 6;
  size_t count = 0;
  while (true) {
    if (pos >= n) {
      *error = "listpack without terminator";
      return false;
    }
    unsigned char b = p[pos];
    if (b == 0xFF) break;
    size_t hdr = 0, len = 0;
    bool is_int = false;
    int64_t iv = 0;
    auto need = [&](size_t k) { return pos + k <= n - 1; };
    if ((b & 0x80) == 0) {
      is_int = true;
      iv = b & 0x7f;
      hdr = 1;
    } else if ((b & 0xC0) == 0x80) {
      hdr = 1;
      len = b & 0x3f;
    } else if ((b & 0xE0) == 0xC0) {
      if (!need(2)) break;
      is_int = true;
      iv = SignExtend((uint64_t{b & 0x1fu} << 8) | p[pos + 1], 13);
      hdr = 2;
    } else if ((b & 0xF0) == 0xE0) {
      if (!need(2)) break;
      hdr = 2;
      len = (size_t{b & 0x0fu} << 8) | p[pos + 1];
    } else if (b == 0xF0) {
      if (!need(5)) break;
      hdr = 5;
      len = GetLE(p + pos + 1, 4);
    } else if (b >= 0xF1 && b <= 0xF4) {
      static constexpr int kBytes[] = {2, 3, 4, 8};
      int bytes = kBytes[b - 0xF1];
      if (!need(1 + bytes)) break;
      is_int = true;
      iv = SignExtend(GetLE(p + pos + 1, bytes), 8 * bytes);
      hdr = 1 + bytes;
    } else {
      *error = "invalid listpack entry encoding";
      return false;
    }
    size_t entry = hdr + len;
    if (entry > n || pos + entry + BacklenSize(entry) > n - 1) {
      *error = "listpack entry past the end";
      return false;
    }
    // The back-length (read backwards, 7 bits a byte, as lpDecodeBacklen) must be the entry's
    // size: Redis walks listpacks backwards with it (lpValidateNext checks it the same way).
    {
      const unsigned char* q = p + pos + entry + BacklenSize(entry) - 1;
      uint64_t back = 0;
      int shift = 0;
      while (true) {
        back |= uint64_t{*q & 127u} << shift;
        if ((*q & 128) == 0) break;
        shift += 7;
        if (shift > 28 || q == p) {
          back = ~uint64_t{0};
          break;
        }
        --q;
      }
      if (back != entry) {
        *error = "listpack entry back-length mismatch";
        return false;
      }
    }
    if (is_int) {
      out->push_back(IntText(iv));
    } else {
      out->emplace_back(lp.substr(pos + hdr, len));
    }
    pos += entry + BacklenSize(entry);
    ++count;
  }
  if (pos != n - 1) {
    *error = "malformed listpack";
    return false;
  }
  if (declared != 65535 && declared != count) {
    *error = "listpack element count mismatch";
    return false;
  }
  return true;
}

bool ZiplistElements(std::string_view zl, std::vector<std::string>* out, std::string* error) {
  const auto* p = reinterpret_cast<const unsigned char*>(zl.data());
  const size_t n = zl.size();
  if (n < 11 || GetLE(p, 4) != n || p[n - 1] != 0xFF) {
    *error = "malformed ziplist header";
    return false;
  }
  // As Redis's deep ziplistValidateIntegrity (Redis converts every ziplist at load, so it always
  // runs): each prevlen is the previous entry's size, zltail points at the last entry and a
  // zllen below 0xFFFF is the entry count.
  const size_t zltail = GetLE(p + 4, 4);
  const size_t zllen = GetLE(p + 8, 2);
  size_t pos = 10;
  size_t prev_start = 10, prev_size = 0, count = 0;
  while (pos < n - 1) {
    const size_t start = pos;
    // prevlen
    size_t prevlen;
    if (p[pos] == 0xFF) {
      *error = "ziplist end marker before the end";
      return false;
    }
    if (p[pos] < 254) {
      prevlen = p[pos];
      pos += 1;
    } else {
      if (pos + 5 > n - 1) {
        *error = "ziplist entry past the end";
        return false;
      }
      prevlen = GetLE(p + pos + 1, 4);
      pos += 5;
    }
    if (prevlen != prev_size) {
      *error = "ziplist prevlen mismatch";
      return false;
    }
    if (pos >= n - 1) {
      *error = "ziplist entry past the end";
      return false;
    }
    unsigned char e = p[pos];
    size_t hdr = 1, len = 0;
    bool is_int = true;
    int64_t iv = 0;
    int ibytes = 0;
    switch (e >> 6) {
      case 0:
        is_int = false;
        len = e & 0x3f;
        break;
      case 1:
        if (pos + 2 > n) {
          *error = "ziplist entry past the end";
          return false;
        }
        is_int = false;
        hdr = 2;
        len = (size_t{e & 0x3fu} << 8) | p[pos + 1];
        break;
      case 2:
        if (pos + 5 > n) {
          *error = "ziplist entry past the end";
          return false;
        }
        is_int = false;
        hdr = 5;
        len = (size_t{p[pos + 1]} << 24) | (size_t{p[pos + 2]} << 16) | (size_t{p[pos + 3]} << 8) |
              p[pos + 4];
        break;
      default:
        if (e == 0xC0) {
          ibytes = 2;
        } else if (e == 0xD0) {
          ibytes = 4;
        } else if (e == 0xE0) {
          ibytes = 8;
        } else if (e == 0xF0) {
          ibytes = 3;
        } else if (e == 0xFE) {
          ibytes = 1;
        } else if (e >= 0xF1 && e <= 0xFD) {
          iv = (e & 0x0f) - 1;
        } else {
          *error = "invalid ziplist entry encoding";
          return false;
        }
        break;
    }
    if (is_int) {
      if (pos + hdr + ibytes > n - 1) {
        *error = "ziplist entry past the end";
        return false;
      }
      if (ibytes > 0) iv = SignExtend(GetLE(p + pos + 1, ibytes), 8 * ibytes);
      out->push_back(IntText(iv));
      pos += hdr + ibytes;
    } else {
      if (len > n || pos + hdr + len > n - 1) {
        *error = "ziplist entry past the end";
        return false;
      }
      out->emplace_back(zl.substr(pos + hdr, len));
      pos += hdr + len;
    }
    prev_start = start;
    prev_size = pos - start;
    ++count;
  }
  if (zltail != prev_start) {
    *error = "ziplist tail offset mismatch";
    return false;
  }
  if (zllen != 0xFFFF && zllen != count) {
    *error = "ziplist entry count mismatch";
    return false;
  }
  return true;
}

bool ZipmapElements(std::string_view zm, std::vector<std::string>* out, std::string* error) {
  const auto* p = reinterpret_cast<const unsigned char*>(zm.data());
  const size_t n = zm.size();
  size_t pos = 1;
  auto read_len = [&](size_t* len) -> bool {
    if (pos >= n) return false;
    if (p[pos] < 254) {
      *len = p[pos++];
      return true;
    }
    if (p[pos] == 254 && pos + 5 <= n) {
      *len = GetLE(p + pos + 1, 4);
      pos += 5;
      return true;
    }
    return false;
  };
  while (true) {
    if (pos >= n) {
      *error = "zipmap without terminator";
      return false;
    }
    if (p[pos] == 0xFF) return pos == n - 1 || (*error = "zipmap trailing bytes", false);
    size_t klen, vlen;
    if (!read_len(&klen) || klen > n || pos + klen > n) break;
    out->emplace_back(zm.substr(pos, klen));
    pos += klen;
    if (!read_len(&vlen) || pos >= n) break;
    size_t free_bytes = p[pos++];
    if (vlen > n || pos + vlen + free_bytes > n) break;
    out->emplace_back(zm.substr(pos, vlen));
    pos += vlen + free_bytes;
  }
  *error = "malformed zipmap";
  return false;
}

bool IntsetElements(std::string_view is, std::vector<int64_t>* out, std::string* error) {
  const auto* p = reinterpret_cast<const unsigned char*>(is.data());
  if (is.size() < 8) {
    *error = "intset too short";
    return false;
  }
  uint64_t width = GetLE(p, 4);
  uint64_t count = GetLE(p + 4, 4);
  if ((width != 2 && width != 4 && width != 8) || 8 + width * count != is.size()) {
    *error = "malformed intset";
    return false;
  }
  out->reserve(out->size() + count);
  for (uint64_t i = 0; i < count; ++i) {
    out->push_back(
        SignExtend(GetLE(p + 8 + i * width, static_cast<int>(width)), static_cast<int>(8 * width)));
  }
  return true;
}

std::string BuildIntset(const std::vector<int64_t>& values, int width) {
  std::string out;
  out.reserve(8 + values.size() * width);
  PutLE(&out, static_cast<uint64_t>(width), 4);
  PutLE(&out, values.size(), 4);
  for (int64_t v : values) PutLE(&out, static_cast<uint64_t>(v), width);
  return out;
}

}  // namespace shardis::rdb
