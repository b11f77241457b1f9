// Redis 7.0.15's command tips and key specifications (generated data, command_key_specs.cc),
// and their evaluation on a command's arguments as Redis's getKeysUsingKeySpecs does. Used by
// COMMAND INFO / DOCS and COMMAND GETKEYSANDFLAGS. Read-only, any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_builder.h"

namespace shardis {

enum class KeySpecBegin { kUnknown, kIndex, kKeyword };
enum class KeySpecFind { kUnknown, kRange, kKeynum };

struct KeySpecData {
  std::string_view flags;  // space separated: "RW access delete"
  KeySpecBegin begin;
  int begin_arg;             // index, or keyword's startfrom
  std::string_view keyword;  // kKeyword only
  KeySpecFind find;
  int find_a;  // range: lastkey;  keynum: keynumidx
  int find_b;  // range: keystep;  keynum: firstkey
  int find_c;  // range: limit;    keynum: keystep
  std::string_view notes;
};

struct CommandKeySpecs {
  std::string_view name;  // "set", "client|kill"
  std::string_view tips;  // space separated
  std::vector<KeySpecData> specs;
};

const std::vector<CommandKeySpecs>& AllCommandKeySpecs();
// The entry of `name` (lowercase, "container|sub" for subcommands), or null.
const CommandKeySpecs* FindCommandKeySpecs(std::string_view name);

// Writes the key specs array of a COMMAND INFO entry.
void ReplyKeySpecs(ReplyBuilder& reply, const CommandKeySpecs* specs);

struct KeyWithFlags {
  int pos;
  std::string_view flags;
};
// Redis's getKeysUsingKeySpecs on `args` (args[0] is the command name). Returns false when a
// spec cannot be evaluated (unknown begin or find, bad numkeys, out of range) or a spec has
// variable flags: the caller then uses the command's own key finder.
bool KeysFromSpecs(const CommandKeySpecs& specs, const std::vector<std::string_view>& args,
                   std::vector<KeyWithFlags>* out);

}  // namespace shardis
