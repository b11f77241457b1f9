#include "server/command_table.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/slot.h"

namespace shardis {

int ShardOfKey(std::string_view key, int shard_count) {
  return static_cast<int>(KeySlot(key) % static_cast<uint32_t>(shard_count));
}

const CommandTable& CommandTable::Get() {
  static const CommandTable* table = [] {
    std::vector<CommandSpec> specs;
    RegisterConnectionCommands(&specs);
    RegisterServerCommands(&specs);
    RegisterStringCommands(&specs);
    RegisterKeyCommands(&specs);
    return new CommandTable(std::move(specs));
  }();
  return *table;
}

CommandTable::CommandTable(std::vector<CommandSpec> specs) : specs_(std::move(specs)) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name.find('|') != std::string_view::npos) continue;  // subcommand docs only
    index_.emplace(std::string(specs_[i].name), i);
  }
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char buf[64];
  if (name.size() >= sizeof(buf)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i) buf[i] = absl::ascii_tolower(name[i]);
  auto it = index_.find(std::string_view(buf, name.size()));
  return it == index_.end() ? nullptr : &specs_[it->second];
}

void CommandTable::KeyPositions(const CommandSpec& spec, ArgList args,
                                std::vector<int>* positions) {
  positions->clear();
  if (spec.first_key <= 0) return;
  int argc = static_cast<int>(args.size());
  int last = spec.last_key >= 0 ? spec.last_key : argc + spec.last_key;
  int step = spec.key_step > 0 ? spec.key_step : 1;
  for (int i = spec.first_key; i <= last && i < argc; i += step) positions->push_back(i);
}

std::string UnknownCommandError(ArgList args) {
  // As redis-server: the name cut at 128 bytes, then quoted arguments while the list is shorter
  // than 128 bytes, each cut so the list stays within 128.
  std::string_view name = args.empty() ? std::string_view() : args[0];
  std::string list;
  for (size_t i = 1; i < args.size() && list.size() < 128; ++i) {
    std::string_view a = args[i].substr(0, 128 - list.size());
    absl::StrAppend(&list, "'", a, "' ");
  }
  return absl::StrCat("ERR unknown command '", name.substr(0, 128),
                      "', with args beginning with: ", list);
}

std::string ArityError(std::string_view name) {
  return absl::StrCat("ERR wrong number of arguments for '", absl::AsciiStrToLower(name),
                      "' command");
}

}  // namespace shardis
