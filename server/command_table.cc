#include "server/command_table.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/slot.h"

namespace shardis {

int ShardOfKey(std::string_view key, int shard_count) {
  if (shard_count == 1) return 0;  // no CRC16 on the single-thread path
  return static_cast<int>(KeySlot(key) % static_cast<uint32_t>(shard_count));
}

const CommandTable& CommandTable::Get() {
  static const CommandTable* table = [] {
    std::vector<CommandSpec> specs;
    RegisterConnectionCommands(&specs);
    RegisterServerCommands(&specs);
    RegisterStringCommands(&specs);
    RegisterKeyCommands(&specs);
    RegisterListCommands(&specs);
    RegisterHashCommands(&specs);
    RegisterSetCommands(&specs);
    RegisterZSetCommands(&specs);
    RegisterGeoCommands(&specs);
    RegisterStreamCommands(&specs);
    RegisterStreamGroupCommands(&specs);
    RegisterSortCommands(&specs);
    RegisterHyperLogLogCommands(&specs);
    RegisterPubSubCommands(&specs);
    RegisterTransactionCommands(&specs);
    RegisterPersistenceCommands(&specs);
    RegisterScriptingCommands(&specs);
    RegisterFunctionCommands(&specs);
    RegisterReplicationCommands(&specs);
    RegisterAclCommands(&specs);
    RegisterSlowlogCommands(&specs);
    RegisterLatencyCommands(&specs);
    RegisterMonitorCommand(&specs);
    RegisterTrackingCommands(&specs);
    RegisterMemoryCommands(&specs);
    return new CommandTable(std::move(specs));
  }();
  return *table;
}

CommandTable::CommandTable(std::vector<CommandSpec> specs) : specs_(std::move(specs)) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name.find('|') != std::string_view::npos) {
      sub_index_.emplace(std::string(specs_[i].name), i);
    } else {
      index_.emplace(std::string(specs_[i].name), i);
    }
  }
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char buf[64];
  if (name.size() >= sizeof(buf)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i) buf[i] = absl::ascii_tolower(name[i]);
  auto it = index_.find(absl::string_view(buf, name.size()));
  return it == index_.end() ? nullptr : &specs_[it->second];
}

const CommandSpec* CommandTable::FindSubcommand(std::string_view container,
                                                std::string_view sub) const {
  std::string full = cmd::ToLower(Cat(container, "|", sub));
  auto it = sub_index_.find(full);
  return it == sub_index_.end() ? nullptr : &specs_[it->second];
}

std::vector<const CommandSpec*> CommandTable::Subcommands(std::string_view container) const {
  std::vector<const CommandSpec*> out;
  std::string prefix = Cat(cmd::ToLower(container), "|");
  for (const CommandSpec& spec : specs_) {
    if (spec.name.starts_with(prefix)) out.push_back(&spec);
  }
  return out;
}

const CommandSpec* CommandTable::ResolveSubcommand(ArgList args, ReplyBuilder& reply) const {
  const CommandSpec* sub = FindSubcommand(args[0], args[1]);
  if (sub == nullptr) {
    reply.Error(Cat("ERR unknown subcommand '", args[1].substr(0, 128), "'. Try ",
                    cmd::ToUpper(args[0]), " HELP."));
    return nullptr;
  }
  if (!ArityOk(*sub, args.size())) {
    reply.Error(ArityError(sub->name));
    return nullptr;
  }
  return sub;
}

void CommandTable::KeyPositions(const CommandSpec& spec, ArgList args,
                                std::vector<int>* positions) {
  positions->clear();
  if (spec.get_keys != nullptr) {
    spec.get_keys(args, positions);
    return;
  }
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
    CatAppend(&list, "'", a, "' ");
  }
  return Cat("ERR unknown command '", name.substr(0, 128), "', with args beginning with: ", list);
}

std::string ArityError(std::string_view name) {
  return Cat("ERR wrong number of arguments for '", cmd::ToLower(name), "' command");
}

}  // namespace shardis
