#include "server/command.h"
namespace shardis {
void RegisterConnectionCommands(std::vector<CommandSpec>* table) {}
}  // namespace shardis
