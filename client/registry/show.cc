// cairn registry show
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/registry/registry_cli.h"

namespace cairn::client::registry {
namespace {

struct ShowOptions {
  std::string registry;
  bool pending = false;
  bool json = false;
};

std::string TimeOrDash(const google::protobuf::Timestamp& ts) {
  const int64_t us = ToMicros(ts);
  return us == 0 ? "-" : FormatTime(us);
}

std::string RolesText(const cairn::v1::Participant& p) {
  std::string out;
  for (int r : p.roles()) {
    if (!out.empty()) out += ",";
    out += keys::RoleName(static_cast<cairn::v1::Role>(r));
  }
  return out;
}

// Left-aligned columns separated by two spaces; the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      width.resize(std::max(width.size(), row.size()), 0);
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

nlohmann::json KeyJson(const cairn::v1::PublicKey& k) {
  nlohmann::json j = {{"key_id", k.key_id()},
                      {"public_key", ToHex(k.public_key())},
                      {"valid_from", FormatTime(ToMicros(k.valid_from()))}};
  j["valid_until"] = ToMicros(k.valid_until()) == 0 ? nlohmann::json(nullptr)
                                                    : nlohmann::json(TimeOrDash(k.valid_until()));
  j["revoked_at"] = ToMicros(k.revoked_at()) == 0 ? nlohmann::json(nullptr)
                                                  : nlohmann::json(TimeOrDash(k.revoked_at()));
  return j;
}

nlohmann::json RegistryJson(const Registry& r) {
  nlohmann::json participants = nlohmann::json::array();
  for (const auto& p : r.participants()) {
    nlohmann::json roles = nlohmann::json::array();
    for (int role : p.roles()) roles.push_back(keys::RoleName(static_cast<cairn::v1::Role>(role)));
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : p.keys()) keys.push_back(KeyJson(k));
    participants.push_back({{"id", p.id()},
                            {"legal_name", p.legal_name()},
                            {"country", p.country()},
                            {"roles", roles},
                            {"keys", keys}});
  }
  nlohmann::json logs = nlohmann::json::array();
  for (const auto& log : r.logs()) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : log.keys()) keys.push_back(KeyJson(k));
    logs.push_back({{"log_id", log.log_id()},
                    {"operator", log.operator_()},
                    {"hosts", std::vector<std::string>(log.hosts().begin(), log.hosts().end())},
                    {"keys", keys}});
  }
  return {{"consortium", r.consortium()},
          {"version", r.version()},
          {"issued_at", FormatTime(ToMicros(r.issued_at()))},
          {"threshold", r.threshold()},
          {"rules", {{"receipt_tolerance_ppm", ReceiptTolerancePpm(r)}}},
          {"participants", participants},
          {"logs", logs}};
}

void PrintRegistryTables(const Registry& r, std::ostream& out) {
  Table participants({"PARTICIPANT", "COUNTRY", "ROLES", "LEGAL NAME"});
  Table keys({"KEY ID", "OWNER", "VALID FROM", "VALID UNTIL", "REVOKED AT"});
  for (const auto& p : r.participants()) {
    participants.Add({p.id(), p.country(), RolesText(p), p.legal_name()});
    for (const auto& k : p.keys()) {
      keys.Add({k.key_id(), p.id(), FormatTime(ToMicros(k.valid_from())),
                TimeOrDash(k.valid_until()), TimeOrDash(k.revoked_at())});
    }
  }
  Table logs({"LOG", "OPERATOR", "HOSTS"});
  for (const auto& log : r.logs()) {
    std::string hosts;
    for (const auto& h : log.hosts()) hosts += (hosts.empty() ? "" : ",") + h;
    logs.Add({log.log_id(), log.operator_(), hosts.empty() ? "-" : hosts});
    for (const auto& k : log.keys()) {
      keys.Add({k.key_id(), "log " + log.log_id(), FormatTime(ToMicros(k.valid_from())),
                TimeOrDash(k.valid_until()), TimeOrDash(k.revoked_at())});
    }
  }
  out << "\n";
  participants.Print(out);
  out << "\n";
  keys.Print(out);
  if (r.logs_size() > 0) {
    out << "\n";
    logs.Print(out);
  }
}

int RunShow(const ShowOptions& opt) {
  const std::string sub = "show";
  auto file = keys::ReadRegistryFile(opt.registry);
  if (!file.ok()) return Fail(sub, file.status());
  std::optional<keys::TrustRegistry> trust;
  if (file->versions_size() > 0 || !opt.pending) {
    auto verified = keys::TrustRegistry::FromFile(*file);
    if (!verified.ok()) {
      std::cerr << "cairn registry show: " << opt.registry
                << " does not verify: " << verified.status().message() << "\n";
      return kExitIntegrity;
    }
    trust.emplace(std::move(verified).value());
  }
  std::optional<Registry> draft;
  if (auto parsed = keys::PendingDraft(*file); parsed.ok()) {
    draft = std::move(parsed).value();
  } else if (parsed.status().code() != StatusCode::kNotFound) {
    return Fail(sub, parsed.status());
  }
  if (opt.pending && !draft.has_value()) {
    return Usage(sub, opt.registry +
                          " has no draft (the version in force is shown without "
                          "--pending)");
  }
  const keys::DraftSignatures sigs = keys::CountDraftSignatures(*file);

  const Registry& shown = opt.pending ? *draft : trust->registry();
  if (opt.json) {
    nlohmann::json out = RegistryJson(shown);
    out["verified_versions"] = file->versions_size();
    out["in_force"] = !opt.pending;
    if (draft.has_value()) {
      out["pending"] = {
          {"version", draft->version()}, {"signatures", sigs.valid}, {"threshold", sigs.threshold}};
    } else {
      out["pending"] = nullptr;
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "consortium  " << shown.consortium() << "\n";
  if (opt.pending) {
    std::cout << "version     " << shown.version() << " (draft, not in force: " << sigs.valid
              << " of " << sigs.threshold << " registrar signatures)\n";
  } else {
    std::cout << "version     " << shown.version() << " (in force; chain of "
              << file->versions_size() << (file->versions_size() == 1 ? " version" : " versions")
              << " verified)\n";
  }
  std::cout << "issued at   " << FormatTime(ToMicros(shown.issued_at())) << "\n"
            << "threshold   " << shown.threshold()
            << " registrar signature(s) for the version after it\n"
            << "rules       receipt tolerance " << ReceiptTolerancePpm(shown) << " ppm\n";
  if (!opt.pending && draft.has_value()) {
    std::cout << "draft       version " << draft->version() << " pending, " << sigs.valid << " of "
              << sigs.threshold << " registrar signatures (see --pending)\n";
  }
  PrintRegistryTables(shown, std::cout);
  return kExitOk;
}

}  // namespace

void AddShowCommand(CLI::App& registry, Runner* selected) {
  auto opt = std::make_shared<ShowOptions>();
  CLI::App* cmd = registry.add_subcommand(
      "show",
      "Verify the chain of registry versions and print the version in force: participants,\n"
      "countries, roles, keys and their validity, logs. Exit 1 when it does not verify.");
  AddRegistryFlag(cmd, opt->registry);
  cmd->add_flag("--pending", opt->pending, "show the draft being signed instead");
  cmd->add_flag("--json", opt->json, "print as JSON");
  Select(cmd, opt, selected, &RunShow);
}

}  // namespace cairn::client::registry
