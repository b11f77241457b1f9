// See lua_sandbox.h. Runs on the thread that owns the lua_State.
#include "server/scripting/lua_sandbox.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace shardis::scripting {
namespace {

// The registry set of read-only tables (the proxies and the globals table): rawset refuses them.
constexpr char kReadonlySetKey[] = "shardis.readonly_tables";

}  // namespace

int ReadonlyError(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

int NonexistentGlobal(lua_State* L, int key_index) {
  const char* name = lua_tostring(L, key_index);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name != nullptr ? name : "?");
}

// __index of the load-time `redis` table: a missing field is an error, as in Redis.
int StrictIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (lua_isnil(L, -1)) return NonexistentGlobal(L, 2);
  return 1;
}

// Adds the table at `index` (absolute) to the read-only set.
void MarkReadonly(lua_State* L, int index) {
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlySetKey);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, kReadonlySetKey);
  }
  lua_pushvalue(L, index);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// rawset that refuses the read-only tables: stock Lua's would write past a proxy's __newindex
// into the proxy (or the globals table), where every later script would see it, e.g. a
// rawset(redis, 'call', f) hijacking other users' scripts. Redis's read-only tables refuse it.
int GuardedRawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlySetKey);
  bool readonly = false;
  if (lua_istable(L, -1)) {
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    readonly = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (readonly) {  // no position, as Redis's VM-raised error
    lua_pushliteral(L, "Attempt to modify a readonly table");
    return lua_error(L);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// Replaces the table on top of the stack by an empty read-only proxy of it.
void MakeReadonlyProxy(lua_State* L, bool strict) {
  int original = lua_gettop(L);
  lua_newtable(L);  // proxy
  MarkReadonly(L, lua_gettop(L));
  lua_newtable(L);  // its metatable
  if (strict) {
    lua_pushvalue(L, original);
    lua_pushcclosure(L, StrictIndex, 1);
  } else {
    lua_pushvalue(L, original);
  }
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyError);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_replace(L, original);
}

}  // namespace shardis::scripting
