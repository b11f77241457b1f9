#include "server/command.h"

namespace shardis {

void RegisterSetCommands(std::vector<CommandSpec>* table) {}

}  // namespace shardis
