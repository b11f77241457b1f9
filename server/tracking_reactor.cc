// Client-side caching on a reactor (see server/tracking.h): remembering reads, invalidating on
// writes, expiry, table eviction and flushes, and delivering the pushes. All on this thread;
// other threads are reached with TrackingMessages.
#include <algorithm>

#include "server/command_table.h"
#include "server/reactor.h"
#include "server/server.h"

namespace shardis {

void TrackingMessage::Deliver(Reactor& reactor) {
  reactor.OnTrackingMessage(this);
  delete this;
}

void Reactor::TrackCommand(Connection* c, const CommandSpec& spec, ArgList args) {
  ClientTracking& t = c->state.tracking;
  bool in_multi = c->state.in_multi();
  if (!in_multi) {
    // EXEC: what its queued read-only commands read (CACHING applies to the whole MULTI).
    if (spec.name == "exec" && c->state.tx != nullptr && !c->state.tx->aborted) {
      std::vector<std::string_view> queued;
      for (const auto& q : c->state.tx->queue) {
        queued.assign(q.args.begin(), q.args.end());
        if (q.spec->name != "exec") TrackCommand(c, *q.spec, queued);
      }
    }
  }
  bool remember = !t.bcast && (spec.flags & kCmdReadonly) && spec.name != "eval_ro" &&
                  spec.name != "evalsha_ro" && spec.name != "fcall_ro" &&
                  !((t.optin && !t.caching) || (t.optout && t.caching)) && !in_multi;
  if (remember) {
    std::vector<int> positions;
    CommandTable::KeyPositions(spec, args, &positions);
    std::vector<TrackingMessage*> by_shard(thread_count(), nullptr);
    ClientRef me{index_, c->state.id};
    for (int pos : positions) {
      int s = ShardOfKey(args[pos], thread_count());
      if (s == index_) {
        tracking_.Remember(args[pos], me);
        continue;
      }
      if (by_shard[s] == nullptr) {
        by_shard[s] = new TrackingMessage;
        by_shard[s]->kind = TrackingMessage::Kind::kRemember;
        by_shard[s]->client = me;
      }
      by_shard[s]->keys.emplace_back(args[pos]);
    }
    // Sent before the command's batch or fan-out: the shard remembers before the read runs.
    for (int s = 0; s < thread_count(); ++s) {
      if (by_shard[s] != nullptr) Send(s, by_shard[s]);
    }
  }
  // CLIENT CACHING holds for the next command only (the whole transaction inside MULTI).
  if (spec.name != "client" && !in_multi && spec.name != "multi") t.caching = false;
}

void Reactor::InvalidateKey(std::string_view key) {
  std::vector<ClientRef> clients = tracking_.Take(key);
  for (const ClientRef& client : clients) {
    SendInvalidation(client, {std::string(key)}, false, false);
  }
  if (tracking_.has_prefixes()) {
    // Gathered for the turn (one push per client, prefix and writer, as Redis sends one per
    // prefix before it sleeps); the first one schedules the flush.
    for (const auto& [prefix, client] : tracking_.MatchingPrefixes(key)) {
      if (pending_bcast_.empty()) {
        auto* m = new TrackingMessage;
        m->kind = TrackingMessage::Kind::kBcastFlush;
        Send(index_, m);
      }
      auto it =
          std::find_if(pending_bcast_.begin(), pending_bcast_.end(),
                       [&, &prefix = prefix, &client = client](const PendingBcast& p) {
                         return p.target == client && p.prefix == prefix && p.writer == writer_;
                       });
      if (it == pending_bcast_.end()) {
        pending_bcast_.push_back(PendingBcast{client, std::string(prefix), writer_, {}});
        it = pending_bcast_.end() - 1;
      }
      if (std::find(it->keys.begin(), it->keys.end(), key) == it->keys.end()) {
        it->keys.emplace_back(key);
      }
    }
  }
}

void Reactor::FlushBcastInvalidations() {
  std::vector<PendingBcast> pending;
  pending.swap(pending_bcast_);
  ClientRef saved = writer_;
  for (PendingBcast& p : pending) {
    writer_ = p.writer;  // NOLOOP is judged by the writer of the keys
    SendInvalidation(p.target, std::move(p.keys), false, true);
  }
  writer_ = saved;
}

void Reactor::InvalidateWrites(const CommandSpec& spec, ArgList args) {
  std::vector<int> positions;
  CommandTable::KeyPositions(spec, args, &positions);
  for (int pos : positions) InvalidateKey(args[pos]);
}

void Reactor::InvalidateEverywhere(const CommandSpec& spec, ArgList args, ClientRef writer) {
  std::vector<int> positions;
  CommandTable::KeyPositions(spec, args, &positions);
  std::vector<TrackingMessage*> by_shard(thread_count(), nullptr);
  for (int pos : positions) {
    int s = ShardOfKey(args[pos], thread_count());
    if (by_shard[s] == nullptr) {
      by_shard[s] = new TrackingMessage;
      by_shard[s]->kind = TrackingMessage::Kind::kWritten;
      by_shard[s]->writer = writer;
    }
    by_shard[s]->keys.emplace_back(args[pos]);
  }
  for (int s = 0; s < thread_count(); ++s) {
    if (by_shard[s] == nullptr) continue;
    if (s == index_) {
      OnTrackingMessage(by_shard[s]);
      delete by_shard[s];
    } else {
      Send(s, by_shard[s]);
    }
  }
}

void Reactor::SendInvalidation(ClientRef target, std::vector<std::string> keys, bool null,
                               bool bcast) {
  auto* m = new TrackingMessage;
  m->kind = TrackingMessage::Kind::kInvalidate;
  m->client = target;
  m->writer = writer_;
  m->bcast = bcast;
  m->null = null;
  m->keys = std::move(keys);
  m->own = invalidating_own_write_ && !null && writer_ == target;
  if (m->own && target.thread == index_ && !bcast) {
    // The client's own command, run here: the push follows its reply (ProcessInput, or
    // ResumeConnection once the operation it belongs to has ended). BCAST pushes go out later
    // anyway (as Redis's, before it sleeps).
    auto it = connections_by_id_.find(target.id);
    if (it != connections_by_id_.end()) {
      it->second->own_invalidations.push_back({std::move(m->keys), bcast});
      delete m;
      return;
    }
  }
  Send(target.thread, m);  // to self too: delivered after the running command's reply
}

void Reactor::FlushOwnInvalidations(Connection* c) {
  std::vector<Connection::OwnInvalidation> pending;
  pending.swap(c->own_invalidations);
  const ClientTracking& t = c->state.tracking;
  for (const Connection::OwnInvalidation& inv : pending) {
    // The checks of a delivered invalidation (OnTrackingMessage), the writer being the client.
    if (!t.on || t.bcast != inv.bcast || t.noloop) continue;
    WriteInvalidation(c, inv.keys, false);
  }
}

void Reactor::WriteInvalidation(Connection* c, const std::vector<std::string>& keys, bool null) {
  ClientTracking& t = c->state.tracking;
  bool resp3 = c->state.resp == RespVersion::kResp3;
  std::string_view null_proto = resp3 ? "_\r\n" : "$-1\r\n";
  if (t.redirect == 0) {
    if (!resp3) return;  // RESP2 without redirect: nowhere to say it (as Redis)
    AppendInvalidatePush(&c->out, true, keys, null, null_proto);
    MarkDirty(c);
    return;
  }
  if (t.redirect_thread == index_) {
    auto it = connections_by_id_.find(t.redirect);
    if (it == connections_by_id_.end()) {
      t.broken_redirect = true;
      if (resp3) {
        ReplyBuilder r(&c->out, c->state.resp);
        r.PushHeader(2);
        r.Bulk("tracking-redir-broken");
        r.Integer(static_cast<int64_t>(t.redirect));
        MarkDirty(c);
      }
      return;
    }
    Connection* target = it->second;
    bool target3 = target->state.resp == RespVersion::kResp3;
    if (!target3 && !target->state.subscribed()) return;
    AppendInvalidatePush(&target->out, target3, keys, null, null_proto);
    MarkDirty(target);
    return;
  }
  auto* m = new TrackingMessage;
  m->kind = TrackingMessage::Kind::kRedirected;
  m->client = ClientRef{index_, c->state.id};
  m->target = t.redirect;
  m->null = null;
  m->null_proto = std::string(null_proto);
  m->keys = keys;
  Send(t.redirect_thread, m);
}

void Reactor::OnTrackingMessage(TrackingMessage* m) {
  using Kind = TrackingMessage::Kind;
  switch (m->kind) {
    case Kind::kRemember:
      for (const std::string& key : m->keys) tracking_.Remember(key, m->client);
      break;
    case Kind::kInvalidate: {
      auto it = connections_by_id_.find(m->client.id);
      if (it == connections_by_id_.end()) break;
      Connection* c = it->second;
      const ClientTracking& t = c->state.tracking;
      if (!t.on) break;
      if (!m->null && t.bcast != m->bcast) break;  // left over from the other mode
      if (!m->null && t.noloop && m->writer == m->client) break;
      if (m->own && c->waiting) {
        // Its own write, whose reply is still on its way back: the push follows the reply.
        c->own_invalidations.push_back({std::move(m->keys), m->bcast});
        break;
      }
      WriteInvalidation(c, m->keys, m->null);
      break;
    }
    case Kind::kRedirected: {
      auto it = connections_by_id_.find(m->target);
      if (it == connections_by_id_.end()) break;  // gone: the pushes are lost
      Connection* target = it->second;
      bool target3 = target->state.resp == RespVersion::kResp3;
      if (!target3 && !target->state.subscribed()) break;
      AppendInvalidatePush(&target->out, target3, m->keys, m->null, m->null_proto);
      MarkDirty(target);
      break;
    }
    case Kind::kFlush:
      TrackingFlushHere();
      break;
    case Kind::kBcastRemove:
      tracking_.RemoveClient(m->client);
      break;
    case Kind::kBcastFlush:
      FlushBcastInvalidations();
      break;
    case Kind::kWritten: {
      if (tracking_.empty()) break;
      ClientRef saved = writer_;
      writer_ = m->writer;
      for (const std::string& key : m->keys) InvalidateKey(key);
      writer_ = saved;
      break;
    }
  }
}

void Reactor::TrackingFlushHere() {
  tracking_.Clear();
  for (auto& [id, c] : connections_by_id_) {
    if (c->state.tracking.on && !c->closed) WriteInvalidation(c, {}, true);
  }
}

void Reactor::BroadcastTrackingFlush() {
  for (int t = 0; t < thread_count(); ++t) {
    if (t == index_) continue;
    auto* m = new TrackingMessage;
    m->kind = TrackingMessage::Kind::kFlush;
    Send(t, m);
  }
  TrackingFlushHere();
}

void Reactor::TrackingChanged(ClientState& client, const ClientTracking& before) {
  const ClientTracking& now = client.tracking;
  if (before.on != now.on) TrackingClientCount().fetch_add(now.on ? 1 : -1);
  // Leaving BCAST: every thread drops the prefixes (fire and forget: a late invalidation finds
  // the client out of BCAST mode and is dropped). Entering it registers them on every thread
  // before CLIENT TRACKING replies (SetBcastPrefixes).
  if (!(before.on && before.bcast) || (now.on && now.bcast)) return;
  ClientRef me{index_, client.id};
  for (int t = 0; t < thread_count(); ++t) {
    if (t == index_) {
      tracking_.RemoveClient(me);
      continue;
    }
    auto* m = new TrackingMessage;
    m->kind = TrackingMessage::Kind::kBcastRemove;
    m->client = me;
    Send(t, m);
  }
}

void Reactor::LimitTrackingTable() {
  // tracking-table-max-keys is for the whole server: each shard keeps its share.
  int64_t max = config_.tracking_table_max_keys;
  if (max <= 0) return;
  size_t share = static_cast<size_t>(std::max<int64_t>(1, max / thread_count()));
  ClientRef saved = writer_;
  writer_ = ClientRef{};
  for (const std::string& key : tracking_.KeysBeyond(share, 1000)) InvalidateKey(key);
  writer_ = saved;
}

}  // namespace shardis
