// The `cmsgpack` Lua library that Redis scripts can use (MessagePack pack / unpack), written for
// Shardis with the API and wire format of the library Redis embeds. Opened by the Lua engine of
// each reactor thread; no state of its own.
#pragma once

extern "C" {
#include <lua.h>
}

namespace shardis::scripting {

// Pushes the cmsgpack table (pack, unpack, unpack_one, unpack_limit, _NAME, _VERSION...).
int OpenCmsgpack(lua_State* L);

}  // namespace shardis::scripting
