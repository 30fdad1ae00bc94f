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

// The entry at `index` of the node's own log.
Result<std::string> EntryAt(NodeClient& client, uint64_t index) {
  cairn::v1::GetEntriesRequest request;
  request.set_start(index);
  request.set_limit(1);
  grpc::ClientContext context;
  client.Prepare(context);
  auto reader = client.stub().GetEntries(&context, request);
  cairn::v1::EntryRecord record;
  const bool got = reader->Read(&record);
  while (reader->Read(&record)) {
  }
  CAIRN_RETURN_IF_ERROR(client.FromGrpc(reader->Finish()));
  if (!got || record.index() != index) {
    return OutOfRange("the node's log has no entry " + std::to_string(index)).AsRemote();
  }
  return record.entry();
}

// The entry asked for, decoded; an entry by id must hold that event (its body's hash), whatever
// the node's response says.
Result<DecodedEntry> FetchEntry(NodeClient& client, const GetOptions& opt) {
  if (opt.index) {
    CAIRN_ASSIGN_OR_RETURN(const std::string entry, EntryAt(client, *opt.index));
    return DecodeEntry(entry);
  }
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
