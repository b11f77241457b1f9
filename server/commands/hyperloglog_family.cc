#include "server/command.h"

namespace shardis {

void RegisterHyperLogLogCommands(std::vector<CommandSpec>* table) {}

}  // namespace shardis
