// The `struct` Lua library that Redis scripts can use (struct.pack / unpack / size: binary
// packing of numbers and strings by a format string), written for Shardis with the API, formats
// and error messages of the library Redis embeds. Opened by the Lua engine of each reactor
// thread; no state of its own.
#pragma once

extern "C" {
#include <lua.h>
}

namespace shardis::scripting {

// Pushes the struct table (pack, unpack, size).
int OpenStruct(lua_State* L);

}  // namespace shardis::scripting
