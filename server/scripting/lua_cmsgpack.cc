// cmsgpack for Lua scripts: MessagePack encoding of Lua values as the library Redis embeds does
// it (integral numbers as the smallest integer format, other numbers as float32 when exact else
// float64, strings as fixstr/str8/str16/str32, tables with keys 1..n as arrays and others as
// maps, tables nested deeper than 16 as nil), and decoding of the formats it writes (not bin or
// ext). Runs on the thread of the Lua engine that called it; input bytes come from
// scripts, so decoding never trusts lengths and bounds its recursion.
#include "server/scripting/lua_cmsgpack.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" {
#include <lauxlib.h>
}

namespace shardis::scripting {
namespace {

constexpr int kMaxPackNesting = 16;     // deeper tables are packed as nil, as Redis's library
constexpr int kMaxUnpackNesting = 512;  // deeper input is refused (bounded C recursion)

void PutBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PackInt(std::string* out, int64_t n) {
  if (n >= 0) {
    if (n <= 127) {
      out->push_back(static_cast<char>(n));
    } else if (n <= 0xff) {
      out->push_back(static_cast<char>(0xcc));
      PutBigEndian(out, static_cast<uint64_t>(n), 1);
    } else if (n <= 0xffff) {
      out->push_back(static_cast<char>(0xcd));
      PutBigEndian(out, static_cast<uint64_t>(n), 2);
    } else if (n <= 0xffffffffLL) {
      out->push_back(static_cast<char>(0xce));
      PutBigEndian(out, static_cast<uint64_t>(n), 4);
    } else {
      out->push_back(static_cast<char>(0xcf));
      PutBigEndian(out, static_cast<uint64_t>(n), 8);
    }
    return;
  }
  uint64_t bits = static_cast<uint64_t>(n);
  if (n >= -32) {
    out->push_back(static_cast<char>(bits & 0xff));
  } else if (n >= -128) {
    out->push_back(static_cast<char>(0xd0));
    PutBigEndian(out, bits, 1);
  } else if (n >= -32768) {
    out->push_back(static_cast<char>(0xd1));
    PutBigEndian(out, bits, 2);
  } else if (n >= -2147483648LL) {
    out->push_back(static_cast<char>(0xd2));
    PutBigEndian(out, bits, 4);
  } else {
    out->push_back(static_cast<char>(0xd3));
    PutBigEndian(out, bits, 8);
  }
}

void PackNumber(std::string* out, lua_Number d) {
  // Integral values in int64's range are packed as integers.
  if (std::isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
      static_cast<lua_Number>(static_cast<int64_t>(d)) == d) {
    PackInt(out, static_cast<int64_t>(d));
    return;
  }
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    out->push_back(static_cast<char>(0xca));
    PutBigEndian(out, bits, 4);
  } else {
    double v = d;
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    out->push_back(static_cast<char>(0xcb));
    PutBigEndian(out, bits, 8);
  }
}

void PackString(std::string* out, const char* s, size_t len) {
  if (len < 32) {
    out->push_back(static_cast<char>(0xa0 | len));
  } else if (len <= 0xff) {
    out->push_back(static_cast<char>(0xd9));
    PutBigEndian(out, len, 1);
  } else if (len <= 0xffff) {
    out->push_back(static_cast<char>(0xda));
    PutBigEndian(out, len, 2);
  } else {
    out->push_back(static_cast<char>(0xdb));
    PutBigEndian(out, len, 4);
  }
  out->append(s, len);
}

void PackHeader(std::string* out, size_t n, uint8_t fix, uint8_t op16, uint8_t op32) {
  if (n <= 15) {
    out->push_back(static_cast<char>(fix | n));
  } else if (n <= 0xffff) {
    out->push_back(static_cast<char>(op16));
    PutBigEndian(out, n, 2);
  } else {
    out->push_back(static_cast<char>(op32));
    PutBigEndian(out, n, 4);
  }
}

// Are the table's keys exactly 1..n (n >= 0)? Table at the top of the stack.
bool IsArray(lua_State* L) {
  size_t count = 0;
  lua_Number max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);  // the value
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return false;
    }
    lua_Number n = lua_tonumber(L, -1);
    if (n <= 0 || std::floor(n) != n) {
      lua_pop(L, 1);
      return false;
    }
    if (n > max) max = n;
    ++count;
  }
  return max == static_cast<lua_Number>(count);
}

// Packs the value at the top of the stack and pops it.
void PackValue(lua_State* L, std::string* out, int level) {
  luaL_checkstack(L, 4, "cmsgpack: nesting too deep");
  switch (lua_type(L, -1)) {
    case LUA_TBOOLEAN:
      out->push_back(static_cast<char>(lua_toboolean(L, -1) ? 0xc3 : 0xc2));
      break;
    case LUA_TNUMBER:
      PackNumber(out, lua_tonumber(L, -1));
      break;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      PackString(out, s, len);
      break;
    }
    case LUA_TTABLE:
      if (level >= kMaxPackNesting) {
        out->push_back(static_cast<char>(0xc0));
      } else if (IsArray(L)) {
        size_t n = lua_objlen(L, -1);
        PackHeader(out, n, 0x90, 0xdc, 0xdd);
        for (size_t i = 1; i <= n; ++i) {
          lua_rawgeti(L, -1, static_cast<int>(i));
          PackValue(L, out, level + 1);
        }
      } else {
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pop(L, 1);
          ++n;
        }
        PackHeader(out, n, 0x80, 0xde, 0xdf);
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pushvalue(L, -2);  // a copy of the key to pack (lua_next needs the original)
          PackValue(L, out, level + 1);
          PackValue(L, out, level + 1);
        }
      }
      break;
    default:  // nil, functions, userdata...: nil
      out->push_back(static_cast<char>(0xc0));
      break;
  }
  lua_pop(L, 1);
}

int Pack(lua_State* L) {
  int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  std::string out;
  for (int i = 1; i <= nargs; ++i) {
    lua_pushvalue(L, i);
    PackValue(L, &out, 0);
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

// A decoding cursor over the input.
struct Cursor {
  const unsigned char* p;
  size_t left;
  const char* error = nullptr;

  bool Need(size_t n) {
    if (left < n) {
      error = "Missing bytes in input.";
      return false;
    }
    return true;
  }
  uint64_t Take(int bytes) {  // after Need
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
    p += bytes;
    left -= static_cast<size_t>(bytes);
    return v;
  }
};

// Decodes one object and pushes it; on error pushes nothing more and sets c->error.
void UnpackValue(lua_State* L, Cursor* c, int depth);

void UnpackString(lua_State* L, Cursor* c, size_t len) {
  if (!c->Need(len)) return;
  lua_pushlstring(L, reinterpret_cast<const char*>(c->p), len);
  c->p += len;
  c->left -= len;
}

void UnpackArray(lua_State* L, Cursor* c, size_t n, int depth) {
  lua_newtable(L);
  for (size_t i = 1; i <= n; ++i) {
    UnpackValue(L, c, depth + 1);
    if (c->error != nullptr) return;
    lua_rawseti(L, -2, static_cast<int>(i));
  }
}

void UnpackMap(lua_State* L, Cursor* c, size_t n, int depth) {
  lua_newtable(L);
  for (size_t i = 0; i < n; ++i) {
    UnpackValue(L, c, depth + 1);
    if (c->error != nullptr) return;
    UnpackValue(L, c, depth + 1);
    if (c->error != nullptr) return;
    if (lua_isnil(L, -2)) {  // a nil key cannot be set (Lua would raise): dropped
      lua_pop(L, 2);
      continue;
    }
    lua_settable(L, -3);
  }
}

void UnpackValue(lua_State* L, Cursor* c, int depth) {
  if (depth > kMaxUnpackNesting) {
    c->error = "Bad data format in input.";
    return;
  }
  if (!lua_checkstack(L, 4)) {
    c->error = "Bad data format in input.";
    return;
  }
  if (!c->Need(1)) return;
  unsigned char b = static_cast<unsigned char>(c->Take(1));
  auto sized = [c](int bytes, uint64_t* v) {
    if (!c->Need(static_cast<size_t>(bytes))) return false;
    *v = c->Take(bytes);
    return true;
  };
  uint64_t v = 0;
  switch (b) {
    case 0xc0:
      lua_pushnil(L);
      return;
    case 0xc2:
      lua_pushboolean(L, 0);
      return;
    case 0xc3:
      lua_pushboolean(L, 1);
      return;
    case 0xcc:
    case 0xcd:
    case 0xce:
      if (sized(1 << (b - 0xcc), &v)) lua_pushnumber(L, static_cast<lua_Number>(v));
      return;
    case 0xcf:  // read as a signed 64-bit value, as Redis's library does
      if (sized(8, &v)) lua_pushnumber(L, static_cast<lua_Number>(static_cast<int64_t>(v)));
      return;
    case 0xd0:
      if (sized(1, &v)) lua_pushnumber(L, static_cast<int8_t>(v));
      return;
    case 0xd1:
      if (sized(2, &v)) lua_pushnumber(L, static_cast<int16_t>(v));
      return;
    case 0xd2:
      if (sized(4, &v)) lua_pushnumber(L, static_cast<int32_t>(v));
      return;
    case 0xd3:
      if (sized(8, &v)) lua_pushnumber(L, static_cast<lua_Number>(static_cast<int64_t>(v)));
      return;
    case 0xca:
      if (sized(4, &v)) {
        uint32_t bits = static_cast<uint32_t>(v);
        float f;
        std::memcpy(&f, &bits, sizeof(f));
        lua_pushnumber(L, f);
      }
      return;
    case 0xcb:
      if (sized(8, &v)) {
        double d;
        std::memcpy(&d, &v, sizeof(d));
        lua_pushnumber(L, d);
      }
      return;
    case 0xd9:  // str 8 (the bin and ext formats are refused, as by Redis's library)
      if (sized(1, &v)) UnpackString(L, c, v);
      return;
    case 0xda:
      if (sized(2, &v)) UnpackString(L, c, v);
      return;
    case 0xdb:
      if (sized(4, &v)) UnpackString(L, c, v);
      return;
    case 0xdc:
      if (sized(2, &v)) UnpackArray(L, c, v, depth);
      return;
    case 0xdd:
      if (sized(4, &v)) UnpackArray(L, c, v, depth);
      return;
    case 0xde:
      if (sized(2, &v)) UnpackMap(L, c, v, depth);
      return;
    case 0xdf:
      if (sized(4, &v)) UnpackMap(L, c, v, depth);
      return;
    default:
      break;
  }
  if (b <= 0x7f) {
    lua_pushnumber(L, b);
  } else if ((b & 0xe0) == 0xe0) {
    lua_pushnumber(L, static_cast<int8_t>(b));
  } else if ((b & 0xe0) == 0xa0) {
    UnpackString(L, c, b & 0x1f);
  } else if ((b & 0xf0) == 0x90) {
    UnpackArray(L, c, b & 0x0f, depth);
  } else if ((b & 0xf0) == 0x80) {
    UnpackMap(L, c, b & 0x0f, depth);
  } else {
    c->error = "Bad data format in input.";
  }
}

// Decodes up to `limit` objects (all when limit and offset are 0) from offset; with a limit, the
// next offset (-1 at the end) comes first.
int UnpackFull(lua_State* L, lua_Integer limit, lua_Integer offset) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  if (offset < 0 || limit < 0) {
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                      static_cast<int>(offset), static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", static_cast<int>(offset),
                      static_cast<int>(len));
  }
  bool all = limit == 0 && offset == 0;
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - static_cast<size_t>(offset)};
  int base = lua_gettop(L);
  int count = 0;
  while (c.left > 0 && (all || count < limit)) {
    if (!lua_checkstack(L, 8)) return luaL_error(L, "too many results to unpack");
    UnpackValue(L, &c, 0);
    if (c.error != nullptr) {
      lua_settop(L, base);
      return luaL_error(L, "%s", c.error);
    }
    ++count;
  }
  if (!all) {
    lua_Integer next = c.left > 0 ? static_cast<lua_Integer>(len - c.left) : -1;
    lua_pushinteger(L, next);
    lua_insert(L, -(count + 1));
    ++count;
  }
  return count;
}

int Unpack(lua_State* L) { return UnpackFull(L, 0, 0); }

int UnpackOne(lua_State* L) {
  lua_Integer offset = luaL_optinteger(L, 2, 0);
  lua_settop(L, 1);
  return UnpackFull(L, 1, offset);
}

int UnpackLimit(lua_State* L) {
  lua_Integer limit = luaL_checkinteger(L, 2);
  lua_Integer offset = luaL_optinteger(L, 3, 0);
  lua_settop(L, 1);
  return UnpackFull(L, limit, offset);
}

}  // namespace

int OpenCmsgpack(lua_State* L) {
  static const luaL_Reg kFunctions[] = {{"pack", Pack},
                                        {"unpack", Unpack},
                                        {"unpack_one", UnpackOne},
                                        {"unpack_limit", UnpackLimit},
                                        {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  return 1;
}

}  // namespace shardis::scripting
