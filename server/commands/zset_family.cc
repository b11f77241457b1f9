#include "server/command.h"

namespace shardis {

void RegisterZSetCommands(std::vector<CommandSpec>* table) {}

}  // namespace shardis
