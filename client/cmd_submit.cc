// cairn submit: signs events written as protobuf JSON and appends them to a node.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "client/command.h"
#include "client/format.h"
#include "client/node_client.h"
#include "common/clock.h"
#include "keys/key_file.h"
#include "ledger/event.h"

namespace cairn::client {
namespace {

struct SubmitOptions {
  NodeOptions node;
  std::string key_file;
  std::string passphrase_file;
  std::vector<std::string> files;
  std::string receive;                  // --receive DISPATCH_ID (or a unique prefix)
  std::vector<std::string> lot_masses;  // --lot LOT=GRAMS, with --receive
  std::string notes;                    // --notes, with --receive
  bool batch = false;
  bool sign_only = false;
  bool presigned = false;
  bool json = false;
  bool ids = false;  // print only the event ids
};

// One event read from a file, ready to send.
struct Pending {
  std::string source;  // "file.json" or "file.json[2]"
  cairn::v1::SignedEvent event;
};

// Splits a file into its JSON documents: one object, or an array of objects.
Result<std::vector<std::pair<std::string, std::string>>> SplitDocuments(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(const std::string text, ReadFileOrStdin(path));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument(path + ": not valid JSON at " +
                           LineColumn(text, e.byte > 0 ? e.byte - 1 : 0));
  }
  std::vector<std::pair<std::string, std::string>> out;
  if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) {
      out.emplace_back(path + "[" + std::to_string(i) + "]", doc[i].dump());
    }
  } else {
    out.emplace_back(path, doc.dump());
  }
  return out;
}

Pending SignBody(cairn::v1::EventBody body, const std::string& source,
                 const keys::SigningKey& key) {
  if (body.author().empty()) body.set_author(key.participant);
  if (!body.has_occurred_at()) *body.mutable_occurred_at() = FromMicros(SystemClock().NowMicros());
  std::string bytes;
  body.SerializeToString(&bytes);
  return Pending{source, ledger::SignEvent(bytes, key.key_id, key.secret_key)};
}

// The receipt of a dispatch, built from the dispatch as the node holds it (in any of its logs):
// every lot as dispatched, unless --lot LOT=GRAMS gives what the weighbridge said (a lot given
// no mass is then not received: lost).
Result<cairn::v1::EventBody> ReceiptOf(NodeClient& client, const SubmitOptions& opt) {
  CAIRN_ASSIGN_OR_RETURN(const DecodedEntry entry, FetchEvent(client, opt.receive));
  const std::string& id = entry.event_id;
  if (!entry.body.has_dispatch()) {
    return InvalidArgument("--receive: event " + id + " is a " + ledger::KindName(entry.body) +
                           ", not a dispatch");
  }
  const cairn::v1::Dispatch& dispatch = entry.body.dispatch();
  std::map<std::string, uint64_t> given;
  for (const std::string& spec : opt.lot_masses) {
    const size_t eq = spec.rfind('=');
    uint64_t grams = 0;
    const std::string digits = eq == std::string::npos ? "" : spec.substr(eq + 1);
    if (eq == std::string::npos || eq == 0 || digits.empty() ||
        digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 15 ||
        (grams = std::stoull(digits)) == 0) {
      return InvalidArgument("--lot: got \"" + spec + "\", want LOT=GRAMS with GRAMS > 0");
    }
    const std::string lot = spec.substr(0, eq);
    const bool dispatched = std::any_of(dispatch.lots().begin(), dispatch.lots().end(),
                                        [&lot](const auto& l) { return l.lot_id() == lot; });
    if (!dispatched) {
      return InvalidArgument("--lot: " + lot + " is not one of the lots dispatch " +
                             id.substr(0, 16) + " ships");
    }
    if (!given.emplace(lot, grams).second) return InvalidArgument("--lot: " + lot + " given twice");
  }
  cairn::v1::EventBody body;
  cairn::v1::Receipt* receipt = body.mutable_receipt();
  receipt->set_dispatch_event_id(id);
  receipt->set_notes(opt.notes);
  for (const cairn::v1::LotMass& lot : dispatch.lots()) {
    if (!given.empty() && given.count(lot.lot_id()) == 0) continue;
    cairn::v1::LotMass* received = receipt->add_lots();
    received->set_lot_id(lot.lot_id());
    received->set_mass_g(given.empty() ? lot.mass_g() : given[lot.lot_id()]);
  }
  return body;
}

Result<std::vector<Pending>> LoadEvents(const SubmitOptions& opt,
                                        const std::optional<keys::SigningKey>& key) {
  std::vector<Pending> pending;
  for (const std::string& path : opt.files) {
    CAIRN_ASSIGN_OR_RETURN(auto documents, SplitDocuments(path));
    for (auto& [source, json] : documents) {
      Pending p{source, {}};
      if (opt.presigned) {
        CAIRN_RETURN_IF_ERROR(ParseJsonMessage(json, source, &p.event));
      } else {
        cairn::v1::EventBody body;
        CAIRN_RETURN_IF_ERROR(ParseJsonMessage(json, source, &body));
        p = SignBody(std::move(body), source, *key);
      }
      pending.push_back(std::move(p));
    }
  }
  return pending;
}

nlohmann::json ResultJson(const std::string& source, const cairn::v1::AppendResponse& r) {
  cairn::v1::Checkpoint cp;
  cp.ParseFromString(r.checkpoint().checkpoint());
  return {{"source", source},
          {"event_id", r.event_id()},
          {"index", r.index()},
          {"duplicate", r.duplicate()},
          {"log_id", cp.log_id()},
          {"tree_size", cp.size()},
          {"root_hash", ToHex(cp.root_hash())}};
}

void PrintResult(const std::string& source, const cairn::v1::AppendResponse& r, bool ids_only) {
  if (ids_only) {
    std::cout << r.event_id() << "\n";
    return;
  }
  cairn::v1::Checkpoint cp;
  cp.ParseFromString(r.checkpoint().checkpoint());
  std::cout << (r.duplicate() ? "already in log: " : "appended ") << r.event_id() << " as entry "
            << r.index() << " of log " << cp.log_id() << " (size " << cp.size() << ")  <- "
            << source << "\n";
}

int Run(const SubmitOptions& opt) {
  if (opt.receive.empty() == opt.files.empty()) {
    return ReportError("submit", InvalidArgument("give event files, or --receive DISPATCH_ID"));
  }
  if (opt.receive.empty() && (!opt.lot_masses.empty() || !opt.notes.empty())) {
    return ReportError("submit", InvalidArgument("--lot and --notes go with --receive"));
  }
  std::optional<keys::SigningKey> key;
  if (!opt.presigned) {
    if (opt.key_file.empty()) {
      return ReportError("submit", InvalidArgument("--key is required (or --signed for "
                                                   "pre-signed events)"));
    }
    std::optional<std::string> passphrase;
    if (!opt.passphrase_file.empty()) {
      auto p = keys::ReadPassphraseFile(opt.passphrase_file);
      if (!p.ok()) return ReportError("submit", p.status());
      passphrase = *p;
    }
    auto k = keys::ReadSigningKey(opt.key_file, passphrase);
    if (!k.ok()) return ReportError("submit", k.status());
    key = std::move(k).value();
  } else if (!opt.receive.empty()) {
    return ReportError("submit", InvalidArgument("--receive builds and signs the receipt: it "
                                                 "needs --key, not --signed"));
  }
  NodeClient client(opt.node);
  std::vector<Pending> events;
  if (!opt.receive.empty()) {
    auto receipt = ReceiptOf(client, opt);
    if (!receipt.ok()) return ReportError("submit", receipt.status());
    events.push_back(SignBody(std::move(receipt).value(), "--receive " + opt.receive, *key));
  } else {
    auto loaded = LoadEvents(opt, key);
    if (!loaded.ok()) return ReportError("submit", loaded.status());
    events = std::move(loaded).value();
  }
  if (opt.sign_only) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : events) out.push_back(nlohmann::json::parse(ToJson(p.event, false)));
    std::cout << (out.size() == 1 ? out[0] : out).dump(2) << "\n";
    return kExitOk;
  }
  nlohmann::json results = nlohmann::json::array();
  if (opt.batch) {
    cairn::v1::AppendBatchRequest request;
    for (const auto& p : events) *request.add_events() = p.event;
    cairn::v1::AppendBatchResponse response;
    const Status s = client.Call(&cairn::v1::Ledger::Stub::AppendBatch, request, &response);
    if (!s.ok()) return ReportError("submit", s, {{"results", results}});
    for (int i = 0; i < response.results_size(); ++i) {
      if (opt.json) {
        results.push_back(ResultJson(events[i].source, response.results(i)));
      } else {
        PrintResult(events[i].source, response.results(i), opt.ids);
      }
    }
  } else {
    for (const auto& p : events) {
      cairn::v1::AppendRequest request;
      *request.mutable_event() = p.event;
      cairn::v1::AppendResponse response;
      const Status s = client.Call(&cairn::v1::Ledger::Stub::Append, request, &response);
      if (!s.ok()) {
        // The events appended before the refusal stay appended: they are listed beside the error.
        return ReportError("submit", s.WithPrefix(p.source), {{"results", results}});
      }
      if (opt.json) {
        results.push_back(ResultJson(p.source, response));
      } else {
        PrintResult(p.source, response, opt.ids);
      }
    }
  }
  if (opt.json) std::cout << results.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void AddSubmitCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<SubmitOptions>();
  CLI::App* cmd = root.add_subcommand(
      "submit",
      "Sign events (protobuf JSON of cairn.v1.EventBody) and append them to a node.\n"
      "A file holds one event or a JSON array of events; '-' reads stdin. A missing author is\n"
      "taken from the key file and a missing occurred_at is set to now. Exit 0 when every event\n"
      "was appended (or was already there), 1 when the node refused one (the rest are not sent),\n"
      "2 on usage or I/O errors. --receive DISPATCH_ID builds and signs the receipt of a dispatch\n"
      "the node holds (in any of its logs): every lot as dispatched, or as --lot LOT=GRAMS says.");
  AddNodeOptions(*cmd, opt->node, /*key_means_signing_key=*/true);
  cmd->add_option("--key", opt->key_file, "secret key file of the author (ID.key)");
  cmd->add_option("--passphrase-file", opt->passphrase_file, "passphrase of a sealed key file");
  CLI::Option* files = cmd->add_option("events", opt->files, "event files (JSON; '-': stdin)");
  CLI::Option* receive = cmd->add_option(
      "--receive", opt->receive,
      "instead of files: receive this dispatch (event id or a unique prefix of 8+ hex)");
  files->excludes(receive);
  cmd->add_option("--lot", opt->lot_masses,
                  "with --receive: LOT=GRAMS received of a dispatched lot (repeatable); lots not "
                  "named are not received. Default: every lot as dispatched")
      ->needs(receive);
  cmd->add_option("--notes", opt->notes, "with --receive: free text (weighbridge ticket, damage)")
      ->needs(receive);
  cmd->add_flag("--batch", opt->batch, "send all events in one AppendBatch: all or nothing");
  cmd->add_flag("--sign-only", opt->sign_only,
                "print the signed events (cairn.v1.SignedEvent JSON) instead of sending them");
  cmd->add_flag("--signed", opt->presigned,
                "files hold already signed events (cairn.v1.SignedEvent JSON); send them as is");
  CLI::Option* json = cmd->add_flag("--json", opt->json, "print results as JSON");
  cmd->add_flag("--ids", opt->ids,
                "print only each appended event's id, one per line, for scripts:\n"
                "dispatch=$(cairn submit --ids --key keys/pk-fwo.key dispatch.json)")
      ->excludes(json);
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
