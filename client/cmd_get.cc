// cairn get: one event by id, with its log entry.
#include <iostream>
#include <memory>

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
  bool json = false;
};

int Run(const GetOptions& opt) {
  if (!IsLowerHex(opt.event_id, 32)) {
    std::cerr << "cairn get: event id must be 64 lowercase hex characters\n";
    return kExitUsage;
  }
  NodeClient client(opt.node);
  cairn::v1::GetEventRequest request;
  request.set_event_id(opt.event_id);
  cairn::v1::GetEventResponse response;
  grpc::ClientContext context;
  client.Prepare(context);
  const grpc::Status s = client.stub().GetEvent(&context, request, &response);
  if (!s.ok()) {
    const Status st = client.FromGrpc(s);
    std::cerr << "cairn get: " << st.ToString() << "\n";
    return kExitUsage;
  }
  auto decoded = DecodeEntry(response.entry());
  if (!decoded.ok()) return ReportError("get", decoded.status());
  if (decoded->event_id != opt.event_id) {
    return ReportError("get", DataLoss("node returned event " + decoded->event_id +
                                       " when asked for " + opt.event_id));
  }
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
            << ToJson(e.body) << "\n";
  return kExitOk;
}

}  // namespace

void AddGetCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<GetOptions>();
  CLI::App* cmd = root.add_subcommand("get", "Show one event and its log entry. Exit 2 if absent.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("event_id", opt->event_id, "event id (64 hex characters)")->required();
  cmd->add_flag("--json", opt->json, "print as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
