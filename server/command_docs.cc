// Lookup of the generated COMMAND DOCS table and its replay (Redis's addReplyCommandDocs and
// addReplyCommandArgList). Read-only, any thread.
#include "server/command_docs.h"

#include <cassert>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_split.h"
#include "server/command.h"

namespace shardis {
namespace {

bool Present(std::string_view s) { return s.data() != nullptr; }

void BulkField(ReplyBuilder& reply, std::string_view key, std::string_view value) {
  if (!Present(value)) return;
  reply.Bulk(key);
  reply.Bulk(value);
}

// A space-separated word list as a set of status strings (doc_flags, argument flags).
void StatusSetField(ReplyBuilder& reply, std::string_view key, std::string_view words) {
  if (!Present(words)) return;
  reply.Bulk(key);
  std::vector<absl::string_view> parts = absl::StrSplit(AV(words), ' ', absl::SkipEmpty());
  reply.SetHeader(parts.size());
  for (absl::string_view p : parts) reply.SimpleString(std::string_view(p.data(), p.size()));
}

// Writes the `count` sibling arguments starting at args[*i] (with their subtrees), advancing *i.
void WriteArgs(ReplyBuilder& reply, const std::vector<CommandDocArg>& args, size_t* i, int count) {
  reply.ArrayHeader(count);
  for (int n = 0; n < count; ++n) {
    assert(*i < args.size());
    const CommandDocArg& a = args[(*i)++];
    size_t fields = 2 + (a.key_spec_index >= 0) + Present(a.token) + Present(a.since) +
                    Present(a.deprecated_since) + Present(a.flags) + (a.nested >= 0);
    reply.MapHeader(fields);
    reply.Bulk("name");
    reply.Bulk(a.name);
    reply.Bulk("type");
    reply.Bulk(a.type);
    if (a.key_spec_index >= 0) {
      reply.Bulk("key_spec_index");
      reply.Integer(a.key_spec_index);
    }
    BulkField(reply, "token", a.token);
    BulkField(reply, "since", a.since);
    BulkField(reply, "deprecated_since", a.deprecated_since);
    StatusSetField(reply, "flags", a.flags);
    if (a.nested >= 0) {
      reply.Bulk("arguments");
      WriteArgs(reply, args, i, a.nested);
    }
  }
}

// How many top-level arguments `args` holds (the rest are their descendants).
int TopLevelArgs(const std::vector<CommandDocArg>& args) {
  int top = 0;
  size_t pending = 0;  // descendants still to skip
  for (const CommandDocArg& a : args) {
    if (pending == 0) {
      ++top;
    } else {
      --pending;
    }
    if (a.nested > 0) pending += a.nested;
  }
  return top;
}

}  // namespace

const CommandDoc* FindCommandDoc(std::string_view name) {
  static const auto* index = [] {
    auto* m = new absl::flat_hash_map<std::string, const CommandDoc*>;
    for (const CommandDoc& d : AllCommandDocs()) m->emplace(std::string(d.name), &d);
    return m;
  }();
  auto it = index->find(AV(name));
  return it == index->end() ? nullptr : it->second;
}

size_t CommandDocFieldCount(const CommandDoc& doc) {
  return 1 + Present(doc.summary) + Present(doc.since) + Present(doc.complexity) +
         Present(doc.doc_flags) + Present(doc.deprecated_since) + Present(doc.replaced_by) +
         !doc.history.empty() + doc.has_arguments;
}

void WriteCommandDocFields(ReplyBuilder& reply, const CommandDoc& doc) {
  BulkField(reply, "summary", doc.summary);
  BulkField(reply, "since", doc.since);
  reply.Bulk("group");
  reply.Bulk(doc.group);
  BulkField(reply, "complexity", doc.complexity);
  StatusSetField(reply, "doc_flags", doc.doc_flags);
  BulkField(reply, "deprecated_since", doc.deprecated_since);
  BulkField(reply, "replaced_by", doc.replaced_by);
  if (!doc.history.empty()) {
    reply.Bulk("history");
    reply.SetHeader(doc.history.size());
    for (const CommandDocHistory& h : doc.history) {
      reply.ArrayHeader(2);
      reply.Bulk(h.since);
      reply.Bulk(h.change);
    }
  }
  if (doc.has_arguments) {
    reply.Bulk("arguments");
    size_t i = 0;
    WriteArgs(reply, doc.args, &i, TopLevelArgs(doc.args));
    assert(i == doc.args.size());
  }
}

}  // namespace shardis
