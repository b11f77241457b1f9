#include "server/config.h"

namespace shardis {

Config::Config() = default;

}  // namespace shardis
