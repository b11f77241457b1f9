// CommandTable: the command table as data. Arity checks, key extraction (for routing), COMMAND
// replies and lookups all come from the CommandSpec entries the families register. Built once at
// start-up and read-only afterwards, so every thread may read it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/command.h"

namespace shardis {

class CommandTable {
 public:
  // The table with every family registered.
  static const CommandTable& Get();

  explicit CommandTable(std::vector<CommandSpec> specs);

  // Case-insensitive lookup of a top-level command; null when unknown.
  const CommandSpec* Find(std::string_view name) const;
  const std::vector<CommandSpec>& specs() const { return specs_; }
  // "container|sub" entries (CLIENT LIST, CONFIG GET...), case-insensitive; null when unknown.
  const CommandSpec* FindSubcommand(std::string_view container, std::string_view sub) const;
  // The subcommand specs of a container, in registration order.
  std::vector<const CommandSpec*> Subcommands(std::string_view container) const;
  // For a container command's handler: resolves args[1] to its "container|sub" spec and checks
  // its arity. On failure writes Redis's error to `reply` and returns null.
  const CommandSpec* ResolveSubcommand(ArgList args, ReplyBuilder& reply) const;

  // Positions of the key arguments of `args` (args[0] is the name) per the spec's first/last/step.
  static void KeyPositions(const CommandSpec& spec, ArgList args, std::vector<int>* positions);
  static bool ArityOk(const CommandSpec& spec, size_t argc) {
    return spec.arity >= 0 ? argc == static_cast<size_t>(spec.arity)
                           : argc >= static_cast<size_t>(-spec.arity);
  }

 private:
  std::vector<CommandSpec> specs_;
  absl::flat_hash_map<std::string, size_t> index_;      // lowercase name -> specs_ index
  absl::flat_hash_map<std::string, size_t> sub_index_;  // "container|sub" -> specs_ index
};

// Redis's reply for an unknown command: "ERR unknown command 'x', with args beginning with: 'a' ".
std::string UnknownCommandError(ArgList args);
// "ERR wrong number of arguments for 'get' command"
std::string ArityError(std::string_view name);

}  // namespace shardis
