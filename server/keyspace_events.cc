// The reactor side of keyspace notifications. After a command, batch or cron step, the shard's
// thread drains its KeyspaceNotifier, builds the messages once, delivers them to its own
// subscribers at once and pushes one message per other thread straight into that thread's
// mailbox (before any reply of this turn is flushed), so every subscriber sees one shard's
// events in the order the shard raised them, and before the writer could see its reply.
#include "server/keyspace_events.h"

#include <memory>

#include "server/reactor.h"
#include "server/server.h"

namespace shardis {
namespace {

struct KeyspaceEventsMessage : MailboxMessage {
  std::shared_ptr<const ChannelMessages> messages;
  void Deliver(Reactor& reactor) override {
    for (const auto& [channel, message] : *messages) {
      reactor.DeliverMessage(SubKind::kChannel, channel, message);
    }
    delete this;
  }
};

}  // namespace

void BuildKeyspaceMessages(const std::vector<KeyspaceEvent>& events, uint32_t flags,
                           ChannelMessages* out) {
  for (const KeyspaceEvent& e : events) {
    std::string db = std::to_string(e.db);
    if (flags & kNotifyKeyspace) {
      out->emplace_back("__keyspace@" + db + "__:" + e.key, e.event);
    }
    if (flags & kNotifyKeyevent) {
      out->emplace_back("__keyevent@" + db + "__:" + e.event, e.key);
    }
  }
}

void Reactor::PublishKeyspaceEvents() {
  KeyspaceNotifier& notifier = shard_.notifier();
  auto messages = std::make_shared<ChannelMessages>();
  BuildKeyspaceMessages(notifier.pending(), notifier.flags(), messages.get());
  notifier.pending().clear();
  if (messages->empty()) return;
  for (int t = 0; t < thread_count(); ++t) {
    if (t == index_) continue;
    auto* m = new KeyspaceEventsMessage;
    m->messages = messages;
    ++counters_.messages_sent;
    server_.reactor(t).mailbox().Push(m);
  }
  for (const auto& [channel, message] : *messages) {
    DeliverMessage(SubKind::kChannel, channel, message);
  }
}

}  // namespace shardis
