#include "server/command.h"

namespace shardis {

void RegisterKeyCommands(std::vector<CommandSpec>* table) {}

}  // namespace shardis
