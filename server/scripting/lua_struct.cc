// struct for Lua scripts: the format language of the library Redis embeds. Options: '<' '>'
// (little, big endian; little by default), '!n' (maximum alignment n, a power of two; '!' alone:
// 8), 'x' (a zero byte), 'b' 'B' 'h' 'H' 'l' 'L' 'T' (char, short, long, size_t: 1, 2, 8, 8 bytes),
// 'i[n]' 'I[n]' (an n-byte integer, default 4, at most 32), 'f' 'd' (float, double), 'cn' (n bytes
// of a string; c0: the whole string when packing, a length read just before when unpacking), 's' (a
// zero-terminated string), ' ' (ignored); no '='. Lowercase integer options are signed. Alignment
// is off (1) until '!' sets it; an item of size s is aligned to min(s, alignment). Integers are
// built from 64 bits (wider ones pad with zero bytes), as Redis's. Runs on the thread of the Lua
// engine that called it; formats and data come from scripts, so every size is checked before use.
#include "server/scripting/lua_struct.h"

#include <cctype>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" {
#include <lauxlib.h>
}

namespace shardis::scripting {
namespace {

constexpr int kMaxIntSize = 32;
constexpr int kMaxAlign = 8;  // the native alignment of double / pointer / long

struct Options {
  bool little = true;  // x86-64: native is little endian
  int align = 1;
};

// A decimal count following an option, or `def` when there is none.
int ReadNumber(lua_State* L, const char** fmt, int def) {
  if (!std::isdigit(static_cast<unsigned char>(**fmt))) return def;
  int a = 0;
  do {
    int digit = **fmt - '0';
    if (a > INT_MAX / 10 || a * 10 > INT_MAX - digit) luaL_error(L, "integral size overflow");
    a = a * 10 + digit;
    ++*fmt;
  } while (std::isdigit(static_cast<unsigned char>(**fmt)));
  return a;
}

// The size of option `opt` (0 for options without one); reads its count from *fmt.
size_t OptionSize(lua_State* L, char opt, const char** fmt) {
  switch (opt) {
    case 'B':
    case 'b':
      return 1;
    case 'H':
    case 'h':
      return 2;
    case 'L':
    case 'l':
    case 'T':
      return 8;
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'x':
      return 1;
    case 'c':
      return static_cast<size_t>(ReadNumber(L, fmt, 1));
    case 'i':
    case 'I': {
      int size = ReadNumber(L, fmt, 4);
      if (size > kMaxIntSize) {
        luaL_error(L, "integral size %d is larger than limit of %d", size, kMaxIntSize);
      }
      return static_cast<size_t>(size);
    }
    default:
      return 0;
  }
}

// Padding before an item of `size` at offset `at`.
size_t Padding(size_t at, const Options& o, char opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<size_t>(o.align)) size = static_cast<size_t>(o.align);
  return (size - (at & (size - 1))) & (size - 1);
}

// The options that set endianness or alignment (and ' '); anything else is an error.
void ControlOption(lua_State* L, char opt, const char** fmt, Options* o) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      o->little = false;
      return;
    case '<':
      o->little = true;
      return;
    case '!': {
      int a = ReadNumber(L, fmt, kMaxAlign);
      if (a == 0 || (a & (a - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", a);
      o->align = a;
      return;
    }
    default: {
      const char* msg = lua_pushfstring(L, "invalid format option '%c'", opt);
      luaL_argerror(L, 1, msg);
    }
  }
}

bool IsInteger(char opt) { return std::strchr("bBhHlLTiI", opt) != nullptr && opt != '\0'; }

// The 64-bit pattern of a Lua number as the C library does it (values out of range: x86's
// "integer indefinite", without undefined behaviour here).
uint64_t ToBits(lua_Number n) {
  if (std::isnan(n)) return uint64_t{1} << 63;
  if (n < 0) {
    if (n < -0x1p63) return uint64_t{1} << 63;
    return static_cast<uint64_t>(static_cast<int64_t>(n));
  }
  if (n >= 0x1p64) return 0;
  return static_cast<uint64_t>(n);
}

void PutInteger(std::string* out, uint64_t value, bool little, size_t size) {
  char bytes[kMaxIntSize] = {};
  for (size_t i = 0; i < size; ++i) {
    bytes[little ? i : size - 1 - i] = static_cast<char>(value & 0xff);
    value = i < 7 ? value >> 8 : 0;
  }
  out->append(bytes, size);
}

lua_Number GetInteger(const char* p, bool little, bool is_signed, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) {
    v = (v << 8) | static_cast<unsigned char>(p[little ? size - 1 - i : i]);
  }
  if (!is_signed) return static_cast<lua_Number>(v);
  // Sign extension from the item's top bit (for items of 8 bytes and more: bit 63).
  unsigned shift = static_cast<unsigned>(size * 8 - 1) & 63;
  uint64_t mask = ~uint64_t{0} << shift;
  if (v & mask) v |= mask;
  return static_cast<lua_Number>(static_cast<int64_t>(v));
}

// Reverses `n` bytes when the wanted order is not the native (little endian) one.
void FixOrder(char* p, size_t n, bool little) {
  if (little) return;
  for (size_t i = 0; i < n / 2; ++i) std::swap(p[i], p[n - 1 - i]);
}

// A float or double in the wanted byte order.
template <typename T>
void AppendFloat(std::string* out, T value, bool little) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  FixOrder(bytes, sizeof(T), little);
  out->append(bytes, sizeof(T));
}

template <typename T>
T ReadFloat(const char* data, bool little) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, data, sizeof(T));
  FixOrder(bytes, sizeof(T), little);
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

int Pack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Options o;
  int arg = 2;
  size_t total = 0;
  std::string out;
  lua_pushnil(L);  // a missing argument is then reported as nil, as Redis's
  while (*fmt != '\0') {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    size_t pad = Padding(total, o, opt, size);
    total += pad;
    out.append(pad, '\0');
    if (IsInteger(opt)) {
      PutInteger(&out, ToBits(luaL_checknumber(L, arg++)), o.little, size);
    } else if (opt == 'x') {
      out.push_back('\0');
    } else if (opt == 'f') {
      lua_Number n = luaL_checknumber(L, arg++);
      float f = std::isfinite(n) && std::fabs(n) > FLT_MAX ? std::copysign(INFINITY, n)
                                                           : static_cast<float>(n);
      AppendFloat(&out, f, o.little);
    } else if (opt == 'd') {
      AppendFloat(&out, static_cast<double>(luaL_checknumber(L, arg++)), o.little);
    } else if (opt == 'c' || opt == 's') {
      size_t len = 0;
      const char* s = luaL_checklstring(L, arg++, &len);
      if (size == 0) size = len;
      luaL_argcheck(L, len >= size, arg, "string too short");
      out.append(s, size);
      if (opt == 's') {
        out.push_back('\0');
        ++size;
      }
    } else {
      ControlOption(L, opt, &fmt, &o);
    }
    total += size;
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int Unpack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  size_t len = 0;
  const char* data = luaL_checklstring(L, 2, &len);
  lua_Integer start = luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, start >= 1, 3, "offset must be 1 or greater");
  size_t pos = static_cast<size_t>(start - 1);
  Options o;
  lua_settop(L, 2);
  while (*fmt != '\0') {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    pos += Padding(pos, o, opt, size);
    luaL_argcheck(L, pos <= len && size <= len - pos, 2, "data string too short");
    luaL_checkstack(L, 1, "too many results");
    if (IsInteger(opt)) {
      lua_pushnumber(L, GetInteger(data + pos, o.little, std::islower(opt) != 0, size));
    } else if (opt == 'x') {
    } else if (opt == 'f') {
      lua_pushnumber(L, ReadFloat<float>(data + pos, o.little));
    } else if (opt == 'd') {
      lua_pushnumber(L, ReadFloat<double>(data + pos, o.little));
    } else if (opt == 'c') {
      if (size == 0) {
        if (lua_gettop(L) <= 2 || !lua_isnumber(L, -1)) {
          luaL_error(L, "format 'c0' needs a previous size");
        }
        lua_Number n = lua_tonumber(L, -1);
        lua_pop(L, 1);
        luaL_argcheck(L, n >= 0 && n <= static_cast<lua_Number>(len - pos), 2,
                      "data string too short");
        size = static_cast<size_t>(n);
      }
      lua_pushlstring(L, data + pos, size);
    } else if (opt == 's') {
      const void* end = std::memchr(data + pos, '\0', len - pos);
      if (end == nullptr) luaL_error(L, "unfinished string in data");
      size = static_cast<size_t>(static_cast<const char*>(end) - (data + pos)) + 1;
      lua_pushlstring(L, data + pos, size - 1);
    } else {
      ControlOption(L, opt, &fmt, &o);
    }
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return lua_gettop(L) - 2;
}

int Size(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Options o;
  size_t pos = 0;
  while (*fmt != '\0') {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    pos += Padding(pos, o, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    if (!std::isalnum(static_cast<unsigned char>(opt))) ControlOption(L, opt, &fmt, &o);
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos));
  return 1;
}

}  // namespace

int OpenStruct(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"pack", Pack}, {"unpack", Unpack}, {"size", Size}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  return 1;
}

}  // namespace shardis::scripting
