// Evaluation and RESP form of the generated key specs (command_key_specs.h). Any thread.
#include <strings.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_split.h"
#include "server/command.h"
#include "server/command_key_specs.h"

namespace shardis {

const CommandKeySpecs* FindCommandKeySpecs(std::string_view name) {
  static const auto* index = [] {
    auto* m = new absl::flat_hash_map<std::string, const CommandKeySpecs*>;
    for (const CommandKeySpecs& c : AllCommandKeySpecs()) m->emplace(std::string(c.name), &c);
    return m;
  }();
  auto it = index->find(AV(name));
  return it == index->end() ? nullptr : it->second;
}

void ReplyKeySpecs(ReplyBuilder& reply, const CommandKeySpecs* specs) {
  // A RESP3 set, as Redis's addReplyCommandKeySpecs.
  if (specs == nullptr) {
    reply.SetHeader(0);
    return;
  }
  reply.SetHeader(specs->specs.size());
  for (const KeySpecData& ks : specs->specs) {
    reply.MapHeader(ks.notes.empty() ? 3 : 4);
    if (!ks.notes.empty()) {
      reply.Bulk("notes");
      reply.Bulk(ks.notes);
    }
    reply.Bulk("flags");
    std::vector<absl::string_view> flags = absl::StrSplit(AV(ks.flags), ' ', absl::SkipEmpty());
    reply.SetHeader(flags.size());
    for (absl::string_view f : flags) reply.SimpleString({f.data(), f.size()});
    reply.Bulk("begin_search");
    reply.MapHeader(2);
    reply.Bulk("type");
    switch (ks.begin) {
      case KeySpecBegin::kIndex:
        reply.Bulk("index");
        reply.Bulk("spec");
        reply.MapHeader(1);
        reply.Bulk("index");
        reply.Integer(ks.begin_arg);
        break;
      case KeySpecBegin::kKeyword:
        reply.Bulk("keyword");
        reply.Bulk("spec");
        reply.MapHeader(2);
        reply.Bulk("keyword");
        reply.Bulk(ks.keyword);
        reply.Bulk("startfrom");
        reply.Integer(ks.begin_arg);
        break;
      case KeySpecBegin::kUnknown:
        reply.Bulk("unknown");
        reply.Bulk("spec");
        reply.MapHeader(0);
        break;
    }
    reply.Bulk("find_keys");
    reply.MapHeader(2);
    reply.Bulk("type");
    switch (ks.find) {
      case KeySpecFind::kRange:
        reply.Bulk("range");
        reply.Bulk("spec");
        reply.MapHeader(3);
        reply.Bulk("lastkey");
        reply.Integer(ks.find_a);
        reply.Bulk("keystep");
        reply.Integer(ks.find_b);
        reply.Bulk("limit");
        reply.Integer(ks.find_c);
        break;
      case KeySpecFind::kKeynum:
        reply.Bulk("keynum");
        reply.Bulk("spec");
        reply.MapHeader(3);
        reply.Bulk("keynumidx");
        reply.Integer(ks.find_a);
        reply.Bulk("firstkey");
        reply.Integer(ks.find_b);
        reply.Bulk("keystep");
        reply.Integer(ks.find_c);
        break;
      case KeySpecFind::kUnknown:
        reply.Bulk("unknown");
        reply.Bulk("spec");
        reply.MapHeader(0);
        break;
    }
  }
}

bool KeysFromSpecs(const CommandKeySpecs& specs, const std::vector<std::string_view>& args,
                   std::vector<KeyWithFlags>* out) {
  out->clear();
  const int argc = static_cast<int>(args.size());
  for (const KeySpecData& ks : specs.specs) {
    if (ks.flags.find("variable_flags") != std::string_view::npos ||
        ks.flags.find("incomplete") != std::string_view::npos) {
      return false;
    }
  }
  for (const KeySpecData& ks : specs.specs) {
    if (ks.flags.find("not_key") != std::string_view::npos) continue;
    int first = 0;
    if (ks.begin == KeySpecBegin::kIndex) {
      first = ks.begin_arg;
    } else if (ks.begin == KeySpecBegin::kKeyword) {
      int start = ks.begin_arg > 0 ? ks.begin_arg : argc + ks.begin_arg;
      int end = ks.begin_arg > 0 ? argc - 1 : 1;
      for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (args[i].size() == ks.keyword.size() &&
            strncasecmp(args[i].data(), ks.keyword.data(), ks.keyword.size()) == 0) {
          first = i + 1;
          break;
        }
      }
      if (first == 0) continue;  // keyword not found
    } else {
      return false;
    }
    int last = 0;
    int step = 1;
    if (ks.find == KeySpecFind::kRange) {
      step = ks.find_b;
      if (ks.find_a >= 0) {
        last = first + ks.find_a;
      } else if (ks.find_c == 0) {
        last = argc + ks.find_a;
      } else {
        last = first + ((argc - first) / ks.find_c + ks.find_a);
      }
    } else if (ks.find == KeySpecFind::kKeynum) {
      step = ks.find_c;
      if (ks.find_a >= argc - first) return false;
      int64_t numkeys = 0;
      if (!cmd::ParseInt64(args[first + ks.find_a], &numkeys) || numkeys < 0 || numkeys > argc) {
        return false;
      }
      first += ks.find_b;
      last = first + static_cast<int>(numkeys) - 1;
    } else {
      return false;
    }
    if (last >= argc || last < first || first >= argc) return false;
    if (step <= 0) step = 1;
    for (int i = first; i <= last; i += step) out->push_back({i, ks.flags});
  }
  return true;
}

}  // namespace shardis
