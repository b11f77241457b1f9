#include "server/command.h"

namespace shardis {

void RegisterStreamCommands(std::vector<CommandSpec>* table) {}

}  // namespace shardis
