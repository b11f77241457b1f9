#include "server/memory_accounting.h"

#include <algorithm>
#include <atomic>

#ifdef SHARDIS_JEMALLOC
#include <jemalloc/jemalloc.h>
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizer runtime's allocator statistics (sanitizer/allocator_interface.h, whose header
// Debian ships only with clang).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#define SHARDIS_SANITIZER_ALLOCATOR 1
#else
#include <malloc.h>
#endif

namespace shardis::memory {
namespace {

constexpr int kMaxSlots = 1024;
constexpr int kMaxCandidateSlots = 256;

struct alignas(64) Slot {
  std::atomic<int64_t> net{0};
};

Slot g_slots[kMaxSlots];
std::atomic<int> g_slot_count{0};
std::atomic<int64_t> g_baseline{0};
std::atomic<bool> g_baseline_set{false};
std::atomic<int64_t> g_peak{0};
std::atomic<bool> g_script_oom{false};
std::atomic<uint8_t> g_candidates[kMaxCandidateSlots];

struct ThreadState {
  int slot = -1;
  const uint64_t* allocated = nullptr;
  const uint64_t* deallocated = nullptr;
  uint64_t origin_allocated = 0;
  uint64_t origin_deallocated = 0;
};
thread_local ThreadState t_state;

}  // namespace

size_t AllocatorAllocated() {
#ifdef SHARDIS_JEMALLOC
  uint64_t epoch = 1;
  size_t sz = sizeof(epoch);
  mallctl("epoch", &epoch, &sz, &epoch, sz);
  size_t allocated = 0;
  sz = sizeof(allocated);
  mallctl("stats.allocated", &allocated, &sz, nullptr, 0);
  return allocated;
#elif defined(SHARDIS_SANITIZER_ALLOCATOR)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

void RegisterThread() {
#ifdef SHARDIS_JEMALLOC
  ThreadState& t = t_state;
  if (t.slot >= 0) return;
  int slot = g_slot_count.fetch_add(1, std::memory_order_relaxed);
  if (slot >= kMaxSlots) return;  // unregistered: covered by recalibration
  size_t sz = sizeof(uint64_t*);
  uint64_t* p = nullptr;
  if (mallctl("thread.allocatedp", &p, &sz, nullptr, 0) != 0 || p == nullptr) return;
  t.allocated = p;
  sz = sizeof(uint64_t*);
  if (mallctl("thread.deallocatedp", &p, &sz, nullptr, 0) != 0 || p == nullptr) return;
  t.deallocated = p;
  t.origin_allocated = *t.allocated;
  t.origin_deallocated = *t.deallocated;
  t.slot = slot;
  bool expected = false;
  if (g_baseline_set.compare_exchange_strong(expected, true, std::memory_order_relaxed)) {
    g_baseline.store(static_cast<int64_t>(AllocatorAllocated()), std::memory_order_relaxed);
  }
#endif
}

int64_t Publish() {
#ifdef SHARDIS_JEMALLOC
  ThreadState& t = t_state;
  if (t.slot >= 0) {
    auto net = static_cast<int64_t>((*t.allocated - t.origin_allocated) -
                                    (*t.deallocated - t.origin_deallocated));
    g_slots[t.slot].net.store(net, std::memory_order_relaxed);
  }
#endif
  int64_t used = Used();
  Observe(used);
  return used;
}

void Observe(int64_t used) {
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (used > peak && !g_peak.compare_exchange_weak(peak, used, std::memory_order_relaxed)) {
  }
}

int64_t Peak() { return g_peak.load(std::memory_order_relaxed); }

int64_t Used() {
#ifdef SHARDIS_JEMALLOC
  if (!g_baseline_set.load(std::memory_order_relaxed)) {
    return static_cast<int64_t>(AllocatorAllocated());
  }
  int n = std::min(g_slot_count.load(std::memory_order_relaxed), kMaxSlots);
  int64_t sum = g_baseline.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) sum += g_slots[i].net.load(std::memory_order_relaxed);
  return sum;
#else
  return static_cast<int64_t>(AllocatorAllocated());
#endif
}

void Recalibrate() {
#ifdef SHARDIS_JEMALLOC
  if (!g_baseline_set.load(std::memory_order_relaxed)) return;
  Publish();
  int n = std::min(g_slot_count.load(std::memory_order_relaxed), kMaxSlots);
  int64_t sum = 0;
  for (int i = 0; i < n; ++i) sum += g_slots[i].net.load(std::memory_order_relaxed);
  g_baseline.store(static_cast<int64_t>(AllocatorAllocated()) - sum, std::memory_order_relaxed);
#endif
}

void SetScriptOom(bool oom) { g_script_oom.store(oom, std::memory_order_relaxed); }
bool ScriptOom() { return g_script_oom.load(std::memory_order_relaxed); }

void PublishCandidates(int thread_index, bool has_candidates) {
  if (thread_index < 0 || thread_index >= kMaxCandidateSlots) return;
  g_candidates[thread_index].store(has_candidates ? 1 : 2, std::memory_order_relaxed);
}

bool AnyCandidates() {
  for (const auto& c : g_candidates) {
    uint8_t v = c.load(std::memory_order_relaxed);
    if (v == 1) return true;
  }
  return false;
}

}  // namespace shardis::memory
