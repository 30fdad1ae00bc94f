// cairn get: one event by id, with its log entry.
#include <iostream>
#include <memory>
#include <optional>

#include "client/command.h"
#include "client/format.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "ledger/event.h"

namespace cairn::client {
namespace {

struct GetOptions {
  NodeOptions node;
  std::string event_id;
  std::optional<uint64_t> index;
  bool json = false;
};

// The entry asked for, decoded; an entry by id must hold that event, whatever the node says.
Result<DecodedEntry> FetchEntry(NodeClient& client, const GetOptions& opt) {
  if (opt.index) return FetchEntryAt(client, *opt.index);
  return FetchEvent(client, opt.event_id);
}

int Run(const GetOptions& opt) {
  if (opt.index.has_value() == !opt.event_id.empty()) {
    return ReportError("get",
                       InvalidArgument("give an event id (or a unique prefix) or --index N"));
  }
  NodeClient client(opt.node);
  auto decoded = FetchEntry(client, opt);
  if (!decoded.ok()) return ReportError("get", decoded.status());
  if (opt.json) {
    std::cout << EntryJson(*decoded).dump(2) << "\n";
    return kExitOk;
  }
  const auto& e = *decoded;
  std::cout << "event     " << e.event_id << "\n"
            << "kind      " << ledger::KindName(e.body) << " by " << e.body.author() << "\n"
            << "occurred  " << FormatTime(ToMicros(e.body.occurred_at())) << "\n"
            << "entry     " << e.entry.index() << " of log " << e.entry.log_id() << ", appended "
            << FormatTime(ToMicros(e.entry.appended_at())) << "\n"
            << "key       " << e.entry.event().key_id() << "\n"
            << "summary   " << Summarize(e.body) << "\n"
            << DataJson(e.body).dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void AddGetCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<GetOptions>();
  CLI::App* cmd = root.add_subcommand(
      "get",
      "Show one event and its log entry, from any log the node holds. The id may be a unique\n"
      "prefix of 8 or more hex characters (as `cairn log` prints). Exit 1 if the node has no such\n"
      "event, 2 if the prefix is ambiguous (the candidates are listed).");
  AddNodeOptions(*cmd, opt->node);
  CLI::Option* id = cmd->add_option("event_id", opt->event_id,
                                    "event id: 64 hex characters, or a unique prefix of 8 or more");
  CLI::Option* index = cmd->add_option("--index", opt->index,
                                       "instead of an id: the entry at this index of the "
                                       "node's own log");
  id->excludes(index);
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
