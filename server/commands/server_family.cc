#include "server/command.h"
namespace shardis {
void RegisterServerCommands(std::vector<CommandSpec>* table) {}
}  // namespace shardis
