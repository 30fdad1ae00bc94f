// cairn log: list a node's log entries.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "client/command.h"
#include "client/format.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "ledger/event.h"

namespace cairn::client {
namespace {

struct LogOptions {
  NodeOptions node;
  uint64_t from = 0;
  uint64_t limit = 0;
  bool json = false;
};

int Run(const LogOptions& opt) {
  NodeClient client(opt.node);
  cairn::v1::GetEntriesRequest request;
  request.set_start(opt.from);
  request.set_limit(opt.limit);
  grpc::ClientContext context;
  client.Prepare(context);
  auto reader = client.stub().GetEntries(&context, request);
  cairn::v1::EntryRecord record;
  bool header = false;
  while (reader->Read(&record)) {
    auto decoded = DecodeEntry(record.entry());
    if (!decoded.ok()) return ReportError("log", decoded.status());
    if (opt.json) {
      // JSON Lines: one entry a line, written as it arrives.
      std::cout << EntryJson(*decoded).dump() << "\n";
      continue;
    }
    if (!header) {  // only once the node has answered
      std::cout << fmt::format("{:>7}  {:<20}  {:<14}  {:<14}  {:<16}  {}\n", "INDEX", "APPENDED",
                               "KIND", "AUTHOR", "EVENT", "SUMMARY");
      header = true;
    }
    const auto& e = *decoded;
    const int64_t appended_us = ToMicros(e.entry.appended_at());
    const std::string appended = FormatTime(appended_us - appended_us % 1000000);
    std::cout << fmt::format("{:>7}  {:<20}  {:<14}  {:<14}  {:<16.16}  {}\n", record.index(),
                             appended, ledger::KindName(e.body), e.body.author(), e.event_id,
                             Summarize(e.body));
  }
  const Status s = client.FromGrpc(reader->Finish());
  if (!s.ok()) return ReportError("log", s);
  return kExitOk;
}

}  // namespace

void AddLogCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<LogOptions>();
  CLI::App* cmd = root.add_subcommand(
      "log",
      "List the node's log entries in index order. EVENT is the id's first 16 hex characters,\n"
      "which get, prove and trace accept as they are.");
  AddNodeOptions(*cmd, opt->node);
  cmd->add_option("--from", opt->from, "first index")->capture_default_str();
  cmd->add_option("--limit", opt->limit, "at most this many entries (0: all)")
      ->capture_default_str();
  cmd->add_flag("--json", opt->json, "print JSON Lines: one entry a line, as it arrives");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
