// LazyFreer: a background thread that destroys big collections (see storage/value.h's lazy-free
// hook), so deleting a 10M-element set never stalls a reactor's loop — Redis's lazyfree, done
// with the same lock-free Mailbox the reactors use (any reactor pushes, this thread pops).
// Started by the Server before the reactors and stopped after them.
#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "server/mailbox.h"
#include "storage/value.h"

namespace shardis {

class LazyFreer {
 public:
  // Starts the thread and installs the storage hook.
  void Start();
  // Frees what is queued, uninstalls the hook and joins the thread.
  void Stop();
  // Objects queued and not freed yet (INFO lazyfree_pending_objects).
  static int64_t pending();
  static int64_t freed();

 private:
  static void Enqueue(std::unique_ptr<Collection> victim);
  void Run();

  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace shardis
