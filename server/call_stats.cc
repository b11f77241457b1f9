#include "server/call_stats.h"

namespace shardis {
namespace {

thread_local CallStatsSink* tls_call_stats = nullptr;

}  // namespace

void SetThreadCallStatsSink(CallStatsSink* sink) { tls_call_stats = sink; }
CallStatsSink* ThreadCallStatsSink() { return tls_call_stats; }

}  // namespace shardis
