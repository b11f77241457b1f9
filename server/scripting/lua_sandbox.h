// Read-only tables for the Lua sandbox on Debian's stock Lua 5.1 (no read-only tables of its
// own): proxies whose __newindex raises Redis's error, the registry set of read-only tables, and
// the rawset that refuses them. Used by each thread's LuaEngine on its own lua_State.
#pragma once

struct lua_State;

namespace shardis::scripting {

// Raises "Attempt to modify a readonly table" (with the caller's position).
int ReadonlyError(lua_State* L);
// Raises "Script attempted to access nonexistent global variable '<key>'".
int NonexistentGlobal(lua_State* L, int key_index);
// __index closure over a table (upvalue 1): a missing field is NonexistentGlobal.
int StrictIndex(lua_State* L);
// Adds the table at absolute `index` to the read-only set (GuardedRawset refuses it).
void MarkReadonly(lua_State* L, int index);
// The sandbox's rawset.
int GuardedRawset(lua_State* L);
// Replaces the table on top of the stack by an empty read-only proxy of it (strict: a missing
// field is an error).
void MakeReadonlyProxy(lua_State* L, bool strict);

}  // namespace shardis::scripting
