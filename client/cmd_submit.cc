// cairn submit: signs events written as protobuf JSON and appends them to a node.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "client/command.h"
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
  bool batch = false;
  bool sign_only = false;
  bool presigned = false;
  bool json = false;
};

// One event read from a file, ready to send.
struct Pending {
  std::string source;  // "file.json" or "file.json[2]"
  cairn::v1::SignedEvent event;
};

Status ParseJsonMessage(const std::string& json, const std::string& source,
                        google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return InvalidArgument(source + ": not a valid " + message->GetDescriptor()->full_name() +
                           " in protobuf JSON: " + std::string(status.message()));
  }
  return Status::Ok();
}

// Splits a file into its JSON documents: one object, or an array of objects.
Result<std::vector<std::pair<std::string, std::string>>> SplitDocuments(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(const std::string text, ReadFileOrStdin(path));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(path + ": not valid JSON");
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

Result<std::vector<Pending>> LoadEvents(const SubmitOptions& opt,
                                        const std::optional<keys::SigningKey>& key) {
  std::vector<Pending> pending;
  SystemClock clock;
  for (const std::string& path : opt.files) {
    CAIRN_ASSIGN_OR_RETURN(auto documents, SplitDocuments(path));
    for (auto& [source, json] : documents) {
      Pending p{source, {}};
      if (opt.presigned) {
        CAIRN_RETURN_IF_ERROR(ParseJsonMessage(json, source, &p.event));
      } else {
        cairn::v1::EventBody body;
        CAIRN_RETURN_IF_ERROR(ParseJsonMessage(json, source, &body));
        if (body.author().empty()) body.set_author(key->participant);
        if (!body.has_occurred_at()) *body.mutable_occurred_at() = FromMicros(clock.NowMicros());
        std::string bytes;
        body.SerializeToString(&bytes);
        p.event = ledger::SignEvent(bytes, key->key_id, key->secret_key);
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

void PrintResult(const std::string& source, const cairn::v1::AppendResponse& r) {
  cairn::v1::Checkpoint cp;
  cp.ParseFromString(r.checkpoint().checkpoint());
  std::cout << (r.duplicate() ? "already in log: " : "appended ") << r.event_id() << " as entry "
            << r.index() << " of log " << cp.log_id() << " (size " << cp.size() << ")  <- "
            << source << "\n";
}

int Run(const SubmitOptions& opt) {
  std::optional<keys::SigningKey> key;
  if (!opt.presigned) {
    if (opt.key_file.empty()) {
      std::cerr << "cairn submit: --key is required (or --signed for pre-signed events)\n";
      return kExitUsage;
    }
    std::optional<std::string> passphrase;
    if (!opt.passphrase_file.empty()) {
      auto p = keys::ReadPassphraseFile(opt.passphrase_file);
      if (!p.ok()) {
        std::cerr << "cairn submit: " << p.status().message() << "\n";
        return kExitUsage;
      }
      passphrase = *p;
    }
    auto k = keys::ReadSigningKey(opt.key_file, passphrase);
    if (!k.ok()) {
      std::cerr << "cairn submit: " << k.status().message() << "\n";
      return kExitUsage;
    }
    key = std::move(k).value();
  }
  auto events = LoadEvents(opt, key);
  if (!events.ok()) {
    std::cerr << "cairn submit: " << events.status().message() << "\n";
    return kExitUsage;
  }
  if (opt.sign_only) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : *events) out.push_back(nlohmann::json::parse(ToJson(p.event, false)));
    std::cout << (out.size() == 1 ? out[0] : out).dump(2) << "\n";
    return kExitOk;
  }
  NodeClient client(opt.node);
  nlohmann::json results = nlohmann::json::array();
  int exit_code = kExitOk;
  if (opt.batch) {
    cairn::v1::AppendBatchRequest request;
    for (const auto& p : *events) *request.add_events() = p.event;
    cairn::v1::AppendBatchResponse response;
    grpc::ClientContext context;
    client.Prepare(context);
    const grpc::Status s = client.stub().AppendBatch(&context, request, &response);
    if (!s.ok()) return ReportError("submit", client.FromGrpc(s));
    for (int i = 0; i < response.results_size(); ++i) {
      if (opt.json) {
        results.push_back(ResultJson((*events)[i].source, response.results(i)));
      } else {
        PrintResult((*events)[i].source, response.results(i));
      }
    }
  } else {
    for (const auto& p : *events) {
      cairn::v1::AppendRequest request;
      *request.mutable_event() = p.event;
      cairn::v1::AppendResponse response;
      grpc::ClientContext context;
      client.Prepare(context);
      const grpc::Status s = client.stub().Append(&context, request, &response);
      if (!s.ok()) {
        exit_code = ReportError("submit", client.FromGrpc(s).WithPrefix(p.source));
        break;
      }
      if (opt.json) {
        results.push_back(ResultJson(p.source, response));
      } else {
        PrintResult(p.source, response);
      }
    }
  }
  if (opt.json) std::cout << results.dump(2) << "\n";
  return exit_code;
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
      "2 on usage or I/O errors.");
  AddNodeOptions(*cmd, opt->node, /*key_means_signing_key=*/true);
  cmd->add_option("--key", opt->key_file, "secret key file of the author (ID.key)");
  cmd->add_option("--passphrase-file", opt->passphrase_file, "passphrase of a sealed key file");
  cmd->add_option("events", opt->files, "event files (JSON)")->required();
  cmd->add_flag("--batch", opt->batch, "send all events in one AppendBatch: all or nothing");
  cmd->add_flag("--sign-only", opt->sign_only,
                "print the signed events (cairn.v1.SignedEvent JSON) instead of sending them");
  cmd->add_flag("--signed", opt->presigned,
                "files hold already signed events (cairn.v1.SignedEvent JSON); send them as is");
  cmd->add_flag("--json", opt->json, "print results as JSON");
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
