// Redis 7.0.15's COMMAND DOCS of every command and subcommand (generated data,
// command_docs_data.cc, from scripts/gen_command_docs.py) and their replay into a reply, field for
// field in Redis's order and types. Read-only, any thread.
#pragma once

#include <string_view>
#include <vector>

#include "protocol/reply_builder.h"

namespace shardis {

// Optional string fields: a null string_view (data() == nullptr, written {}) is absent; "" is a
// present empty string (MIGRATE's empty_string token).
struct CommandDocArg {
  std::string_view name;
  std::string_view type;  // "key", "string", "oneof", "block", "pure-token"...
  int key_spec_index;     // -1: none
  std::string_view token;
  std::string_view since;
  std::string_view deprecated_since;
  std::string_view flags;  // space separated: "optional multiple"
  int nested;              // -1: no "arguments" field; else how many direct children follow
};

struct CommandDocHistory {
  std::string_view since;
  std::string_view change;
};

struct CommandDoc {
  std::string_view name;  // "set", "config|get"
  std::string_view summary;
  std::string_view since;
  std::string_view group;
  std::string_view complexity;
  std::string_view doc_flags;  // space separated: "deprecated syscmd"
  std::string_view deprecated_since;
  std::string_view replaced_by;
  bool has_arguments;
  std::vector<CommandDocHistory> history;
  std::vector<CommandDocArg> args;  // pre-order: each argument, then its `nested` children
};

const std::vector<CommandDoc>& AllCommandDocs();
// The entry of `name` (lowercase, "container|sub" for subcommands), or null.
const CommandDoc* FindCommandDoc(std::string_view name);

// How many map fields WriteCommandDocFields writes (subcommands excluded).
size_t CommandDocFieldCount(const CommandDoc& doc);
// Writes summary, since, group, complexity, doc_flags, deprecated_since, replaced_by, history and
// arguments (those present) as map key/value pairs, as Redis's addReplyCommandDocs does; the
// caller writes the map header and any "subcommands" field after them.
void WriteCommandDocFields(ReplyBuilder& reply, const CommandDoc& doc);

}  // namespace shardis
