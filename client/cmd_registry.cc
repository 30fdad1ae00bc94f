// cairn registry: create, change, sign and show the consortium's trust registry file.
//
// Changes go into the file's draft of the next version (keys/registry_edit.h); the draft takes
// effect once `threshold` registrars of the version in force have signed it. `show` verifies the
// whole chain of versions before printing anything.
#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/command.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "keys/registry.h"
#include "keys/registry_edit.h"
#include "ledger/rulebook.h"

namespace cairn::client {
namespace {

using cairn::v1::Registry;
using cairn::v1::RegistryFile;

uint32_t ReceiptTolerancePpm(const Registry& r) { return ledger::RulesOf(r).receipt_tolerance_ppm; }

// Prints "cairn registry <sub>: <message>" and returns the exit code for `status`: 1 when the
// registry or a signature does not verify or a key may not sign, 2 for usage and I/O errors.
// (Editing a registry file is local work: a participant that already exists is a usage error.)
int Fail(const std::string& sub, const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
    case StatusCode::kDataLoss:
      return ReportError("registry " + sub, status);
    default:
      return ReportError("registry " + sub, Status(StatusCode::kInvalidArgument, status.message()));
  }
}

int Usage(const std::string& sub, const std::string& message) {
  return ReportError("registry " + sub, InvalidArgument(message));
}

// Now, in whole seconds: default key and issue times people read in `show`.
int64_t Now() {
  constexpr int64_t kMicrosPerSecond = 1000000;
  return SystemClock().NowMicros() / kMicrosPerSecond * kMicrosPerSecond;
}

// Parses an optional time flag; `fallback` when it was not given.
Result<int64_t> TimeFlag(const std::string& flag, const std::string& text, int64_t fallback) {
  if (text.empty()) return fallback;
  auto t = ParseTime(text);
  if (!t.ok()) return t.status().WithPrefix(flag);
  return t;
}

std::string Signatures(int n) {
  return std::to_string(n) + (n == 1 ? " signature" : " signatures");
}

// "<N> more signature(s) needed" line after a change to the draft.
void PrintDraftState(const RegistryFile& file, uint64_t version) {
  const keys::DraftSignatures sigs = keys::CountDraftSignatures(file);
  std::cout << "draft version " << version << " has " << sigs.valid << " of " << sigs.threshold
            << " registrar signatures; it takes effect when signed (cairn registry sign)\n";
}

// Reads the registry, applies `edit`, writes it back, and reports the change.
int Edit(const std::string& sub, const std::string& path,
         const std::function<Result<keys::DraftEdit>(const RegistryFile&)>& edit,
         const std::function<std::string(uint64_t)>& describe) {
  auto file = keys::ReadRegistryFile(path);
  if (!file.ok()) return Fail(sub, file.status());
  auto changed = edit(*file);
  if (!changed.ok()) return Fail(sub, changed.status());
  if (Status s = keys::WriteRegistryFile(path, changed->file); !s.ok()) return Fail(sub, s);
  std::cout << describe(changed->version) << "\n";
  if (changed->cleared_signatures > 0) {
    std::cerr << "cairn registry " << sub << ": note: draft version " << changed->version << " had "
              << Signatures(changed->cleared_signatures) << "; the change invalidated "
              << (changed->cleared_signatures == 1 ? "it" : "them")
              << ", so the draft must be signed again\n";
  }
  PrintDraftState(changed->file, changed->version);
  return kExitOk;
}

// Reads a .pub (or .key) file and checks it was made for `owner`.
Result<keys::PublicKeyFile> ReadPubFor(const std::string& path, const std::string& owner) {
  CAIRN_ASSIGN_OR_RETURN(keys::PublicKeyFile pub, keys::ReadPublicKey(path));
  if (pub.participant != owner) {
    return InvalidArgument("--pub " + path + " is the key of " + pub.participant + ", not " +
                           owner + " (make one with cairn keygen --participant " + owner + ")");
  }
  return pub;
}

// ---- init

struct InitOptions {
  std::string registry;
  std::string consortium;
  uint32_t threshold = 1;
};

int RunInit(const InitOptions& opt) {
  auto file = keys::InitRegistry(opt.consortium, opt.threshold, Now());
  if (!file.ok()) return Fail("init", file.status());
  if (Status s = keys::CreateRegistryFile(opt.registry, *file); !s.ok()) return Fail("init", s);
  std::cout << "created " << opt.registry << ": draft version 1 of consortium " << opt.consortium
            << ", threshold " << opt.threshold
            << "; add participants (at least one REGISTRAR), then sign it\n";
  return kExitOk;
}

// ---- add

struct AddOptions {
  std::string registry;
  std::string participant;
  std::string name;
  std::string country;
  std::vector<std::string> roles;
  std::string pub;
  std::string valid_from;
};

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

int RunAdd(const AddOptions& opt) {
  const std::string sub = "add";
  auto file = keys::ReadRegistryFile(opt.registry);
  if (!file.ok()) return Fail(sub, file.status());

  std::vector<cairn::v1::Role> roles;
  for (const std::string& name : opt.roles) {
    if (name.empty()) continue;
    auto role = keys::ParseRole(name);
    if (!role.ok()) return Fail(sub, role.status().WithPrefix("--roles"));
    roles.push_back(*role);
  }
  std::optional<keys::NewKey> key;
  std::string key_id;
  const int64_t now = Now();
  if (!opt.pub.empty()) {
    auto pub = ReadPubFor(opt.pub, opt.participant);
    if (!pub.ok()) return Fail(sub, pub.status());
    auto from = TimeFlag("--valid-from", opt.valid_from, now);
    if (!from.ok()) return Fail(sub, from.status());
    key = keys::NewKey{pub->public_key, *from};
    key_id = pub->key_id;
  } else if (!opt.valid_from.empty()) {
    return Usage(sub, "--valid-from applies to a key; give --pub too");
  }

  // An existing participant: with --pub, add the key to it.
  bool exists = false;
  if (auto draft = keys::PendingDraft(*file); draft.ok()) {
    for (const auto& p : draft->participants()) exists = exists || p.id() == opt.participant;
  } else if (file->versions_size() > 0) {
    auto trust = keys::TrustRegistry::FromFile(*file);
    exists = trust.ok() && trust->FindParticipant(opt.participant) != nullptr;
  }
  if (exists) {
    if (!key.has_value()) {
      return Usage(sub, "participant " + opt.participant +
                            " is already in the registry; give --pub to add a key to it");
    }
    if (!opt.name.empty() || !opt.country.empty() || !opt.roles.empty()) {
      return Usage(sub, "participant " + opt.participant +
                            " is already in the registry; with --pub only its key is added, so "
                            "drop --name, --country and --roles");
    }
    return Edit(
        sub, opt.registry,
        [&](const RegistryFile& f) {
          return keys::AddParticipantKey(f, opt.participant, *key, now);
        },
        [&](uint64_t v) {
          return "added key " + key_id + " to participant " + opt.participant +
                 " in draft version " + std::to_string(v);
        });
  }
  if (opt.name.empty() || opt.country.empty() || roles.empty()) {
    return Usage(sub, "a new participant needs --name, --country and --roles");
  }
  const keys::ParticipantSpec spec{opt.participant, opt.name, Upper(opt.country), roles};
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) { return keys::AddParticipant(f, spec, key, now); },
      [&](uint64_t v) {
        return "added participant " + opt.participant +
               (key_id.empty() ? std::string(" (no key yet)") : " (key " + key_id + ")") +
               " to draft version " + std::to_string(v);
      });
}

// ---- add-log

struct AddLogOptions {
  std::string registry;
  std::string log_id;
  std::string operator_id;
  std::string pub;
  std::string valid_from;
  std::vector<std::string> hosts;
};

int RunAddLog(const AddLogOptions& opt) {
  const std::string sub = "add-log";
  auto pub = ReadPubFor(opt.pub, opt.log_id);
  if (!pub.ok()) return Fail(sub, pub.status());
  const int64_t now = Now();
  auto from = TimeFlag("--valid-from", opt.valid_from, now);
  if (!from.ok()) return Fail(sub, from.status());
  const keys::NewKey key{pub->public_key, *from};
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) {
        return keys::AddLog(f, opt.log_id, opt.operator_id, key, now, opt.hosts);
      },
      [&](uint64_t v) {
        std::string hosts;
        for (const auto& h : opt.hosts) hosts += (hosts.empty() ? ", hosts " : ",") + h;
        return "added log " + opt.log_id + " (operator " + opt.operator_id + ", key " +
               pub->key_id + hosts + ") to draft version " + std::to_string(v);
      });
}

// ---- rotate

struct RotateOptions {
  std::string registry;
  std::string participant;
  std::string pub;
  std::string at;
};

int RunRotate(const RotateOptions& opt) {
  const std::string sub = "rotate";
  auto pub = ReadPubFor(opt.pub, opt.participant);
  if (!pub.ok()) return Fail(sub, pub.status());
  const int64_t now = Now();
  auto at = TimeFlag("--at", opt.at, now);
  if (!at.ok()) return Fail(sub, at.status());
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) {
        return keys::RotateKey(f, opt.participant, pub->public_key, *at, now);
      },
      [&](uint64_t v) {
        return "rotated the key of " + opt.participant + " at " + FormatTime(*at) + ": new key " +
               pub->key_id + "; its earlier keys end there (draft version " + std::to_string(v) +
               ")";
      });
}

// ---- revoke

struct RevokeOptions {
  std::string registry;
  std::string key_id;
  std::string at;
};

int RunRevoke(const RevokeOptions& opt) {
  const std::string sub = "revoke";
  std::string key_id = opt.key_id;
  for (char& c : key_id) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  const int64_t now = Now();
  auto at = TimeFlag("--at", opt.at, now);
  if (!at.ok()) return Fail(sub, at.status());
  return Edit(
      sub, opt.registry,
      [&](const RegistryFile& f) { return keys::RevokeKey(f, key_id, *at, now); },
      [&](uint64_t v) {
        return "revoked key " + key_id + " at " + FormatTime(*at) + " (draft version " +
               std::to_string(v) + ")";
      });
}

// ---- set-threshold

struct ThresholdOptions {
  std::string registry;
  uint32_t threshold = 1;
};

int RunSetThreshold(const ThresholdOptions& opt) {
  const int64_t now = Now();
  return Edit(
      "set-threshold", opt.registry,
      [&](const RegistryFile& f) { return keys::SetThreshold(f, opt.threshold, now); },
      [&](uint64_t v) {
        return "draft version " + std::to_string(v) + ": threshold " +
               std::to_string(opt.threshold) + " for the version after it";
      });
}

// ---- set-rules

struct RulesOptions {
  std::string registry;
  uint32_t receipt_tolerance_ppm = 0;
};

int RunSetRules(const RulesOptions& opt) {
  const int64_t now = Now();
  return Edit(
      "set-rules", opt.registry,
      [&](const RegistryFile& f) {
        return keys::SetReceiptTolerance(f, opt.receipt_tolerance_ppm, now);
      },
      [&](uint64_t v) {
        return "draft version " + std::to_string(v) + ": receipt tolerance " +
               std::to_string(opt.receipt_tolerance_ppm) + " ppm";
      });
}

// ---- sign

struct SignOptions {
  std::string registry;
  std::string key_file;
  std::string passphrase_file;
};

int RunSign(const SignOptions& opt) {
  const std::string sub = "sign";
  auto file = keys::ReadRegistryFile(opt.registry);
  if (!file.ok()) return Fail(sub, file.status());
  std::optional<std::string> passphrase;
  if (!opt.passphrase_file.empty()) {
    auto read = keys::ReadPassphraseFile(opt.passphrase_file);
    if (!read.ok()) return Fail(sub, read.status());
    passphrase = std::move(read).value();
  }
  auto key = keys::ReadSigningKey(opt.key_file, passphrase);
  if (!key.ok()) {
    // A key that cannot be read is a usage problem, not a verification failure.
    std::cerr << "cairn registry sign: " << key.status().message()
              << (key.status().code() == StatusCode::kPermissionDenied && !passphrase.has_value()
                      ? " (use --passphrase-file)"
                      : "")
              << "\n";
    return kExitUsage;
  }
  auto signed_file = keys::SignPending(*file, *key);
  keys::WipeSecret(&*key);
  if (!signed_file.ok()) return Fail(sub, signed_file.status());
  if (Status s = keys::WriteRegistryFile(opt.registry, signed_file->file); !s.ok()) {
    return Fail(sub, s);
  }
  std::cout << "signed version " << signed_file->version << " (" << signed_file->signatures
            << " of " << signed_file->threshold << " signatures): "
            << (signed_file->in_force ? "now in force" : "waiting for more signatures") << "\n";
  return kExitOk;
}

// ---- show

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

// ---- wiring

template <typename Options>
void Select(CLI::App* cmd, std::shared_ptr<Options> opt, Runner* selected,
            int (*run)(const Options&)) {
  cmd->callback([opt, selected, run] { *selected = [opt, run] { return run(*opt); }; });
}

void AddRegistryFlag(CLI::App* cmd, std::string& path) {
  cmd->add_option("--registry", path, "registry file (protobuf JSON)")->required();
}

}  // namespace

void AddRegistryCommand(CLI::App& root, Runner* selected) {
  CLI::App* registry = root.add_subcommand(
      "registry",
      "Create, change, sign and show the consortium's trust registry. Changes collect in a draft\n"
      "of the next version, which takes effect once the threshold of registrars of the version in\n"
      "force have signed it (for version 1, its own registrars).");
  registry->require_subcommand(1);

  {
    auto opt = std::make_shared<InitOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "init",
        "Create a registry file holding an empty draft of version 1. Refuses to overwrite a file.");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--consortium", opt->consortium, "consortium name, e.g. cairn-demo")
        ->required();
    cmd->add_option("--threshold", opt->threshold,
                    "registrar signatures version 1 (and then version 2) needs")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    Select(cmd, opt, selected, &RunInit);
  }
  {
    auto opt = std::make_shared<AddOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "add",
        "Add a participant to the draft, with its key when --pub is given; or, for a participant\n"
        "already listed, add the key in --pub to it.");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--participant", opt->participant, "participant id, e.g. pk-fwo")->required();
    cmd->add_option("--name", opt->name, "legal name, e.g. \"Frontier Works Organisation\"");
    cmd->add_option("--country", opt->country, "ISO 3166-1 alpha-2 country code, e.g. PK");
    cmd->add_option("--roles", opt->roles,
                    "comma-separated roles: MINE, PROCESSOR, TRADER, LOGISTICS, BUYER, LAB, "
                    "AUDITOR, REGISTRAR (any case)")
        ->delimiter(',');
    cmd->add_option("--pub", opt->pub, "public key file from cairn keygen (ID.pub)");
    cmd->add_option("--valid-from", opt->valid_from,
                    "key valid for events from this time (RFC 3339 or YYYY-MM-DD; default now)");
    Select(cmd, opt, selected, &RunAdd);
  }
  {
    auto opt = std::make_shared<AddLogOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "add-log", "Add a node's log and the key that signs its checkpoints to the draft.");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--log-id", opt->log_id, "log id, e.g. us-usm-log")->required();
    cmd->add_option("--operator", opt->operator_id, "participant that runs the node")->required();
    cmd->add_option("--pub", opt->pub,
                    "the node's public key file (cairn keygen --participant "
                    "<log id>)")
        ->required();
    cmd->add_option("--valid-from", opt->valid_from,
                    "key valid from this time (RFC 3339 or YYYY-MM-DD; default now)");
    cmd->add_option("--hosts", opt->hosts,
                    "participants whose home log this is, comma-separated: their events are "
                    "appended here and nowhere else")
        ->delimiter(',');
    Select(cmd, opt, selected, &RunAddLog);
  }
  {
    auto opt = std::make_shared<RotateOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "rotate",
        "Rotate a key in the draft: the participant's (or log's) current keys stop at --at, and\n"
        "the new key in --pub is valid from --at. Events that occurred earlier still verify under\n"
        "the old key.");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--participant", opt->participant,
                    "participant id (or a log id, to rotate a node's checkpoint key)")
        ->required();
    cmd->add_option("--pub", opt->pub, "the new public key file")->required();
    cmd->add_option("--at", opt->at, "rotation time (RFC 3339 or YYYY-MM-DD; default now)");
    Select(cmd, opt, selected, &RunRotate);
  }
  {
    auto opt = std::make_shared<RevokeOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "revoke",
        "Revoke a key in the draft: nothing appended at or after --at is accepted under it, even\n"
        "an event that claims to have occurred earlier.");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--key-id", opt->key_id, "key id (32 hex characters)")->required();
    cmd->add_option("--at", opt->at, "revocation time (RFC 3339 or YYYY-MM-DD; default now)");
    Select(cmd, opt, selected, &RunRevoke);
  }
  {
    auto opt = std::make_shared<ThresholdOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "set-threshold",
        "Set how many registrar signatures the version after the draft will need (version 1:\n"
        "the draft itself).");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--threshold", opt->threshold, "number of registrars, M of N")
        ->required()
        ->check(CLI::Range(1, 1000));
    Select(cmd, opt, selected, &RunSetThreshold);
  }
  {
    auto opt = std::make_shared<RulesOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "set-rules",
        "Set the draft's consortium rules, which every node and every auditor applies alike\n"
        "(no node's config can loosen them).");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--receipt-tolerance-ppm", opt->receipt_tolerance_ppm,
                    "how many parts per million a receipt may exceed its dispatch by (default "
                    "5000, i.e. 0.5%)")
        ->required()
        ->check(CLI::Range(0, 1000000));
    Select(cmd, opt, selected, &RunSetRules);
  }
  {
    auto opt = std::make_shared<SignOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "sign",
        "Sign the draft with a registrar's key. A key counts when it belongs to a REGISTRAR of "
        "the\n"
        "version in force (for version 1, of the draft itself); when the threshold is met the\n"
        "draft becomes the version in force.");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_option("--key", opt->key_file, "the registrar's secret key file (ID.key)")->required();
    cmd->add_option("--passphrase-file", opt->passphrase_file,
                    "file whose first line is the key's passphrase (for a sealed key)");
    Select(cmd, opt, selected, &RunSign);
  }
  {
    auto opt = std::make_shared<ShowOptions>();
    CLI::App* cmd = registry->add_subcommand(
        "show",
        "Verify the chain of registry versions and print the version in force: participants,\n"
        "countries, roles, keys and their validity, logs. Exit 1 when it does not verify.");
    AddRegistryFlag(cmd, opt->registry);
    cmd->add_flag("--pending", opt->pending, "show the draft being signed instead");
    cmd->add_flag("--json", opt->json, "print as JSON");
    Select(cmd, opt, selected, &RunShow);
  }
}

}  // namespace cairn::client
