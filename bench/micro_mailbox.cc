// micro_mailbox: the cost of the cross-thread hop's queue (server/mailbox.h).
//  - PushPop: one thread pushes and pops one message (the uncontended atomics).
//  - CrossThread/<chain>: a producer pushes messages in chains of `chain` (as a reactor flushes
//    one chain per target per loop turn) to a consumer thread that busy-polls; the time per
//    message includes the cache-line transfers between the two cores.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>
#include <vector>

#include "server/mailbox.h"

namespace shardis {
namespace {

struct CountMessage : MailboxMessage {
  void Deliver(Reactor&) override {}
};

void BM_PushPop(benchmark::State& state) {
  Mailbox box;
  CountMessage m;
  for (auto _ : state) {
    box.Push(&m);
    benchmark::DoNotOptimize(box.Pop());
  }
}
BENCHMARK(BM_PushPop);

void BM_CrossThread(benchmark::State& state) {
  const int chain = static_cast<int>(state.range(0));
  constexpr int kMessages = 1 << 16;
  std::vector<CountMessage> pool(kMessages);
  for (auto _ : state) {
    Mailbox box;
    std::atomic<int> received{0};
    std::thread consumer([&] {
      int n = 0;
      while (n < kMessages) {
        if (box.Pop() != nullptr) ++n;
      }
      received.store(n, std::memory_order_release);
    });
    for (int i = 0; i < kMessages; i += chain) {
      for (int k = i; k < i + chain - 1; ++k)
        pool[k].next.store(&pool[k + 1], std::memory_order_relaxed);
      box.PushChain(&pool[i], &pool[i + chain - 1]);
    }
    consumer.join();
    benchmark::DoNotOptimize(received.load(std::memory_order_acquire));
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_CrossThread)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();

}  // namespace
}  // namespace shardis
