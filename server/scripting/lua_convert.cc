// Conversions between RESP replies and Lua values, with Redis 7.0's rules (script_lua.c):
// redis.call's reply becomes Lua values (PushRespAsLua) and a script's return value becomes the
// client's reply (LuaToReply). Pure functions of their inputs, used by the engine's thread.
#include "server/scripting/lua_convert.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "server/command.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace shardis::scripting {

std::string ErrorTableText(std::string_view text, bool has_code) {
  std::string msg;
  if (!text.empty() && text[0] == '-') {
    // "-CODE message" keeps its code; "-message" (no space) gets ERR, as luaPushErrorBuff.
    std::string_view body = text.substr(1);
    msg = body.find(' ') == std::string_view::npos ? Cat("ERR ", body) : std::string(body);
  } else if (has_code) {
    msg = std::string(text);
  } else {
    msg = Cat("ERR ", text);
  }
  while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.pop_back();
  return msg;
}

void PushErrorTable(lua_State* L, std::string_view text, bool has_code, bool counted) {
  std::string msg = ErrorTableText(text, has_code);
  lua_newtable(L);
  lua_pushlstring(L, msg.data(), msg.size());
  lua_setfield(L, -2, "err");
  if (counted) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "ignore_error_stats_update");
  }
}

bool ErrorTableCounted(lua_State* L) {
  lua_pushstring(L, "ignore_error_stats_update");
  lua_rawget(L, -2);
  bool counted = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return counted;
}

namespace {

constexpr int kMaxReplyDepth = 1000;

// ---- RESP -> Lua ----

struct RespReader {
  const char* p;
  const char* end;

  std::string_view Line() {
    const char* start = p;
    while (p + 1 < end && !(p[0] == '\r' && p[1] == '\n')) ++p;
    std::string_view line(start, p - start);
    p = p + 2 <= end ? p + 2 : end;
    return line;
  }
  int64_t Int() {
    std::string_view l = Line();
    int64_t v = 0;
    cmd::ParseInt64(l, &v);
    return v;
  }
  std::string_view Bulk(int64_t len) {
    if (len < 0 || p + len > end) len = 0;
    std::string_view s(p, static_cast<size_t>(len));
    p += len;
    p = p + 2 <= end ? p + 2 : end;  // CRLF
    return s;
  }

  // Pushes one value (or nothing when `L` is null: an attribute being skipped).
  void Push(lua_State* L) {
    if (p >= end) {
      if (L) lua_pushboolean(L, 0);
      return;
    }
    char type = *p++;
    lua_checkstack(L, 4);
    switch (type) {
      case '+': {
        std::string_view s = Line();
        lua_newtable(L);
        lua_pushlstring(L, s.data(), s.size());
        lua_setfield(L, -2, "ok");
        return;
      }
      case '-': {
        std::string_view s = Line();
        PushErrorTable(L, s, true, true);
        return;
      }
      case ':':
        lua_pushnumber(L, static_cast<lua_Number>(Int()));
        return;
      case '$': {
        int64_t len = Int();
        if (len < 0) {
          lua_pushboolean(L, 0);
          return;
        }
        std::string_view s = Bulk(len);
        lua_pushlstring(L, s.data(), s.size());
        return;
      }
      case '*': {
        int64_t n = Int();
        if (n < 0) {
          lua_pushboolean(L, 0);
          return;
        }
        lua_createtable(L, static_cast<int>(n), 0);
        for (int64_t i = 0; i < n; ++i) {
          lua_pushnumber(L, static_cast<lua_Number>(i + 1));
          Push(L);
          lua_settable(L, -3);
        }
        return;
      }
      case '%': {
        int64_t n = Int();
        lua_newtable(L);
        lua_newtable(L);
        for (int64_t i = 0; i < n; ++i) {
          Push(L);
          Push(L);
          lua_settable(L, -3);
        }
        lua_setfield(L, -2, "map");
        return;
      }
      case '~': {
        int64_t n = Int();
        lua_newtable(L);
        lua_newtable(L);
        for (int64_t i = 0; i < n; ++i) {
          Push(L);
          lua_pushboolean(L, 1);
          lua_settable(L, -3);
        }
        lua_setfield(L, -2, "set");
        return;
      }
      case '_':
        Line();
        lua_pushnil(L);
        return;
      case '#': {
        std::string_view s = Line();
        lua_pushboolean(L, s == "t");
        return;
      }
      case ',': {
        std::string_view s = Line();
        double d = 0;
        if (s == "inf") {
          d = HUGE_VAL;
        } else if (s == "-inf") {
          d = -HUGE_VAL;
        } else {
          d = std::strtod(std::string(s).c_str(), nullptr);
        }
        lua_newtable(L);
        lua_pushnumber(L, d);
        lua_setfield(L, -2, "double");
        return;
      }
      case '(': {
        std::string_view s = Line();
        lua_newtable(L);
        lua_pushlstring(L, s.data(), s.size());
        lua_setfield(L, -2, "big_number");
        return;
      }
      case '=': {
        std::string_view s = Bulk(Int());
        std::string_view format = s.substr(0, 3);
        std::string_view text = s.size() >= 4 ? s.substr(4) : std::string_view();
        lua_newtable(L);
        lua_newtable(L);
        lua_pushlstring(L, text.data(), text.size());
        lua_setfield(L, -2, "string");
        lua_pushlstring(L, format.data(), format.size());
        lua_setfield(L, -2, "format");
        lua_setfield(L, -2, "verbatim_string");
        return;
      }
      case '!': {
        std::string_view s = Bulk(Int());
        PushErrorTable(L, s, true, true);
        return;
      }
      case '>': {  // a push inside a reply: as an array
        int64_t n = Int();
        lua_createtable(L, static_cast<int>(n), 0);
        for (int64_t i = 0; i < n; ++i) {
          lua_pushnumber(L, static_cast<lua_Number>(i + 1));
          Push(L);
          lua_settable(L, -3);
        }
        return;
      }
      case '|': {  // attributes are not exposed: skip them, then read the value
        int64_t n = Int();
        for (int64_t i = 0; i < 2 * n; ++i) {
          Push(L);
          lua_pop(L, 1);
        }
        Push(L);
        return;
      }
      default:
        Line();
        lua_pushboolean(L, 0);
        return;
    }
  }
};

// ---- Lua -> reply ----

bool RawFieldIs(lua_State* L, const char* field, int type) {
  lua_pushstring(L, field);
  lua_rawget(L, -2);
  if (lua_type(L, -1) == type) return true;
  lua_pop(L, 1);
  return false;
}

void ToReply(lua_State* L, ReplyBuilder& reply, RespVersion script_resp, int depth,
             ReplyErrors* errors) {
  if (depth > kMaxReplyDepth || !lua_checkstack(L, 4)) {
    reply.Error("ERR reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      reply.Bulk({s, len});
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == RespVersion::kResp2) {
        if (lua_toboolean(L, -1)) {
          reply.Integer(1);
        } else {
          reply.Null();
        }
      } else {
        reply.Bool(lua_toboolean(L, -1));
      }
      break;
    case LUA_TNUMBER: {
      double d = lua_tonumber(L, -1);
      int64_t v;
      if (std::isnan(d)) {
        v = INT64_MIN;
      } else if (d >= 9.2233720368547758e18) {
        v = INT64_MIN;  // what the x86 conversion of an out-of-range double gives Redis
      } else if (d < -9.2233720368547758e18) {
        v = INT64_MIN;
      } else {
        v = static_cast<int64_t>(d);
      }
      reply.Integer(v);
      break;
    }
    case LUA_TTABLE: {
      if (RawFieldIs(L, "err", LUA_TSTRING)) {
        size_t len;
        const char* s = lua_tolstring(L, -1, &len);
        reply.Error({s, len});
        if (errors != nullptr) {
          std::string text(s, len);
          lua_pop(L, 1);
          bool counted = ErrorTableCounted(L);
          if (depth == 0) {
            errors->top_counted = counted;
          } else {
            if (counted) {
              ++errors->nested_counted;
            } else {
              errors->nested_uncounted.push_back(std::move(text));
            }
          }
        } else {
          lua_pop(L, 1);
        }
        break;
      }
      if (RawFieldIs(L, "ok", LUA_TSTRING)) {
        size_t len;
        const char* s = lua_tolstring(L, -1, &len);
        std::string ok(s, len);
        for (char& c : ok) {
          if (c == '\r' || c == '\n') c = ' ';
        }
        reply.SimpleString(ok);
        lua_pop(L, 1);
        break;
      }
      if (RawFieldIs(L, "double", LUA_TNUMBER)) {
        reply.Double(lua_tonumber(L, -1));
        lua_pop(L, 1);
        break;
      }
      if (RawFieldIs(L, "big_number", LUA_TSTRING)) {
        size_t len;
        const char* s = lua_tolstring(L, -1, &len);
        std::string big(s, len);
        for (char& c : big) {
          if (c == '\r' || c == '\n') c = ' ';
        }
        if (reply.resp3()) {
          reply.Raw(Cat("(", big, "\r\n"));
        } else {
          reply.Bulk(big);
        }
        lua_pop(L, 1);
        break;
      }
      if (RawFieldIs(L, "verbatim_string", LUA_TTABLE)) {
        lua_getfield(L, -1, "format");
        lua_getfield(L, -2, "string");
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
          size_t flen, slen;
          const char* f = lua_tolstring(L, -2, &flen);
          const char* s = lua_tolstring(L, -1, &slen);
          reply.Verbatim({s, slen}, {f, flen});
          lua_pop(L, 3);
          break;
        }
        lua_pop(L, 3);
      }
      if (RawFieldIs(L, "map", LUA_TTABLE)) {
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          ++n;
          lua_pop(L, 1);
        }
        reply.MapHeader(n);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pushvalue(L, -2);                               // map, key, value, key
          ToReply(L, reply, script_resp, depth + 1, errors);  // the key copy
          ToReply(L, reply, script_resp, depth + 1, errors);  // the value
        }
        lua_pop(L, 1);
        break;
      }
      if (RawFieldIs(L, "set", LUA_TTABLE)) {
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          ++n;
          lua_pop(L, 1);
        }
        reply.SetHeader(n);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          lua_pushvalue(L, -1);
          ToReply(L, reply, script_resp, depth + 1, errors);
        }
        lua_pop(L, 1);
        break;
      }
      // An array: elements 1..n up to the first nil.
      size_t n = 0;
      while (true) {
        lua_rawgeti(L, -1, static_cast<int>(n + 1));
        bool nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil) break;
        ++n;
      }
      reply.ArrayHeader(n);
      for (size_t i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, static_cast<int>(i));
        ToReply(L, reply, script_resp, depth + 1, errors);
      }
      break;
    }
    default:
      reply.Null();
  }
  lua_pop(L, 1);
}

}  // namespace

void PushRespAsLua(lua_State* L, std::string_view resp) {
  RespReader reader{resp.data(), resp.data() + resp.size()};
  reader.Push(L);
}

void LuaToReply(lua_State* L, ReplyBuilder& reply, RespVersion script_resp, ReplyErrors* errors) {
  ToReply(L, reply, script_resp, 0, errors);
}

}  // namespace shardis::scripting
