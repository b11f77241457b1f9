// Mailbox: the only channel between reactor threads. A lock-free multi-producer single-consumer
// queue of intrusive messages (Vyukov's algorithm) plus an eventfd to wake a sleeping consumer.
//
// Any thread may Push; only the owning reactor pops. Wake-ups are cheap: a producer writes the
// eventfd only when the consumer has announced it is about to sleep (PrepareToSleep), and only
// one producer does so per sleep. The handshake is a Dekker pair on seq_cst atomics: the consumer
// stores `sleeping_` then checks the queue; a producer links its message then checks `sleeping_`;
// at least one of them sees the other, so a message is never left unnoticed while the consumer
// sleeps.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace shardis {

class Reactor;

struct MailboxMessage {
  std::atomic<MailboxMessage*> next{nullptr};
  virtual ~MailboxMessage() = default;
  // Runs on the receiving reactor's thread.
  virtual void Deliver(Reactor& reactor) = 0;
  // Runs there too, before Deliver, for the messages drained together: a chance to hint the
  // cache about what Deliver will touch (Reactor::DrainMailbox). Changes nothing.
  virtual void Prefetch(Reactor& /*reactor*/) const {}
};

class Mailbox {
 public:
  Mailbox() : head_(&stub_), tail_(&stub_) { event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
  ~Mailbox() {
    if (event_fd_ >= 0) close(event_fd_);
  }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  int event_fd() const { return event_fd_; }

  // Any thread: enqueues the chain first..last (already linked through `next`) and wakes the
  // consumer if it sleeps.
  void PushChain(MailboxMessage* first, MailboxMessage* last) {
    last->next.store(nullptr, std::memory_order_relaxed);
    MailboxMessage* prev = tail_.exchange(last, std::memory_order_seq_cst);
    prev->next.store(first, std::memory_order_release);
    if (sleeping_.load(std::memory_order_seq_cst) &&
        sleeping_.exchange(false, std::memory_order_seq_cst)) {
      uint64_t one = 1;
      ssize_t n = write(event_fd_, &one, sizeof(one));
      (void)n;  // EAGAIN only when the counter is saturated: the consumer is awake anyway
    }
  }
  void Push(MailboxMessage* m) { PushChain(m, m); }

  // Consumer only: the next message, or null when empty (or a producer is mid-push; the caller
  // will see the message on its next pass since the producer wakes it or it never slept).
  MailboxMessage* Pop() {
    MailboxMessage* head = head_;
    MailboxMessage* next = head->next.load(std::memory_order_acquire);
    if (head == &stub_) {
      if (next == nullptr) return nullptr;
      head_ = next;
      head = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    if (head != tail_.load(std::memory_order_acquire)) return nullptr;
    Push(&stub_);
    next = head->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    return nullptr;
  }

  // Consumer only: announces an intent to sleep. Returns false (and stays awake) when messages
  // are already waiting, in which case the caller must not block.
  bool PrepareToSleep() {
    sleeping_.store(true, std::memory_order_seq_cst);
    if (HasPending()) {
      sleeping_.store(false, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void Awake() { sleeping_.store(false, std::memory_order_relaxed); }
  void DrainEventFd() {
    uint64_t value;
    while (read(event_fd_, &value, sizeof(value)) > 0) {
    }
  }

 private:
  struct Stub : MailboxMessage {
    void Deliver(Reactor&) override {}
  };

  bool HasPending() const {
    return !(head_ == tail_.load(std::memory_order_seq_cst) &&
             head_->next.load(std::memory_order_seq_cst) == nullptr);
  }

  Stub stub_;
  MailboxMessage* head_;  // consumer side
  alignas(64) std::atomic<MailboxMessage*> tail_;
  alignas(64) std::atomic<bool> sleeping_{false};
  int event_fd_ = -1;
};

}  // namespace shardis
