#include "server/command.h"

namespace shardis {

void RegisterHashCommands(std::vector<CommandSpec>* table) {}

}  // namespace shardis
