// Memory accounting for maxmemory: a process-wide used-memory figure that any thread can read
// without locks, fresh for the calling thread.
//
// Each thread that allocates for the dataset (every reactor, the lazy-free thread) registers a
// slot. A thread publishes its own net allocation (jemalloc's thread.allocated minus
// thread.deallocated since it registered; two loads through pointers cached at registration) in
// its slot, a relaxed atomic, whenever it checks the limit and on each cron tick; readers sum the
// slots and add a baseline. Reactor 0 recalibrates the baseline once a second from jemalloc's
// global stats.allocated (baseline = stats.allocated - sum of slots), which folds in what
// unregistered threads (main, persistence) did.
//
// Error bound: the figure a thread sees is exact for its own allocations and lags, for each other
// thread, by what that thread did since its last publish (at most one command or one cron tick,
// 1000/hz ms), plus what unregistered threads did in the last second. Memory allocated on one
// thread and freed on another (cross-thread messages, lazy free) moves between slots but the sum
// stays right.
//
// Without jemalloc (sanitizer builds) the figure is the allocator's global count, read on each
// call: slower, only for tests.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shardis::memory {

// Gives the calling thread a slot (idempotent per thread).
void RegisterThread();
// Stores the calling thread's net allocation in its slot; returns the updated total.
int64_t Publish();
// Baseline + the sum of the slots (relaxed reads). Call Publish() first for a fresh own figure.
int64_t Used();
// The highest figure any Publish() or Observe() saw (INFO used_memory_peak).
int64_t Peak();
void Observe(int64_t used);
// Reactor 0, once a second: re-derive the baseline from the allocator's global figure.
void Recalibrate();
// The allocator's global allocated bytes (jemalloc stats.allocated, after an epoch refresh).
size_t AllocatorAllocated();

// Per-thread flags of eviction candidates, published in the cron ticks: lets a shard with
// nothing to evict tell whether some other shard can still free memory.
void PublishCandidates(int thread_index, bool has_candidates);
bool AnyCandidates();

// Redis's pre_command_oom_state for scripts: set when an EVAL/EVALSHA/FCALL is dispatched
// (over the limit with nothing to evict), read by redis.call of deny-oom commands. One
// process-wide flag: concurrent scripts on other threads see the latest dispatch's state.
void SetScriptOom(bool oom);
bool ScriptOom();

}  // namespace shardis::memory
