#include "server/lazy_free.h"

#include <poll.h>

#include "server/memory_accounting.h"

namespace shardis {
namespace {

struct LazyFreeMessage : MailboxMessage {
  std::unique_ptr<Collection> victim;
  void Deliver(Reactor&) override {}
};

Mailbox* g_mailbox = nullptr;  // set while the freer runs
std::atomic<int64_t> g_pending{0};
std::atomic<int64_t> g_freed{0};

}  // namespace

int64_t LazyFreer::pending() { return g_pending.load(std::memory_order_relaxed); }
int64_t LazyFreer::freed() { return g_freed.load(std::memory_order_relaxed); }

void LazyFreer::Enqueue(std::unique_ptr<Collection> victim) {
  auto* m = new LazyFreeMessage;
  m->victim = std::move(victim);
  g_pending.fetch_add(1, std::memory_order_relaxed);
  g_mailbox->Push(m);
}

void LazyFreer::Start() {
  g_mailbox = new Mailbox;
  thread_ = std::thread([this] { Run(); });
  SetLazyFreeHook(&LazyFreer::Enqueue);
}

void LazyFreer::Stop() {
  if (!thread_.joinable()) return;
  SetLazyFreeHook(nullptr);
  stop_.store(true);
  uint64_t one = 1;
  ssize_t n = write(g_mailbox->event_fd(), &one, sizeof(one));
  (void)n;
  thread_.join();
  delete g_mailbox;
  g_mailbox = nullptr;
}

void LazyFreer::Run() {
  memory::RegisterThread();  // its frees count against maxmemory at once
  while (true) {
    while (MailboxMessage* m = g_mailbox->Pop()) {
      delete m;  // destroys the collection
      g_pending.fetch_sub(1, std::memory_order_relaxed);
      g_freed.fetch_add(1, std::memory_order_relaxed);
    }
    memory::Publish();
    if (stop_.load()) {
      // Reactors have stopped pushing (the hook is gone); a push may still be mid-link.
      if (MailboxMessage* m = g_mailbox->Pop()) {
        delete m;
        g_pending.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      if (g_pending.load() == 0) return;
    }
    if (g_mailbox->PrepareToSleep()) {
      pollfd pfd{g_mailbox->event_fd(), POLLIN, 0};
      poll(&pfd, 1, 100);
    }
    g_mailbox->Awake();
    g_mailbox->DrainEventFd();
  }
}

}  // namespace shardis
