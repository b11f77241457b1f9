#include "server/command.h"

namespace shardis {

void RegisterStringCommands(std::vector<CommandSpec>* table) {}

}  // namespace shardis
