#include "client/registry/registry_cli.h"

#include <iostream>

#include "ledger/rulebook.h"

namespace cairn::client::registry {
namespace {

std::string Signatures(int n) {
  return std::to_string(n) + (n == 1 ? " signature" : " signatures");
}

// "<N> more signature(s) needed" line after a change to the draft.
void PrintDraftState(const RegistryFile& file, uint64_t version) {
  const keys::DraftSignatures sigs = keys::CountDraftSignatures(file);
  std::cout << "draft version " << version << " has " << sigs.valid << " of " << sigs.threshold
            << " registrar signatures; it takes effect when signed (cairn registry sign)\n";
}

}  // namespace

uint32_t ReceiptTolerancePpm(const Registry& r) { return ledger::RulesOf(r).receipt_tolerance_ppm; }

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

int64_t Now() {
  constexpr int64_t kMicrosPerSecond = 1000000;
  return SystemClock().NowMicros() / kMicrosPerSecond * kMicrosPerSecond;
}

Result<int64_t> TimeFlag(const std::string& flag, const std::string& text, int64_t fallback) {
  if (text.empty()) return fallback;
  auto t = ParseTime(text);
  if (!t.ok()) return t.status().WithPrefix(flag);
  return t;
}

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

Result<keys::PublicKeyFile> ReadPubFor(const std::string& path, const std::string& owner) {
  CAIRN_ASSIGN_OR_RETURN(keys::PublicKeyFile pub, keys::ReadPublicKey(path));
  if (pub.participant != owner) {
    return InvalidArgument("--pub " + path + " is the key of " + pub.participant + ", not " +
                           owner + " (make one with cairn keygen --participant " + owner + ")");
  }
  return pub;
}

void AddRegistryFlag(CLI::App* cmd, std::string& path) {
  cmd->add_option("--registry", path, "registry file (protobuf JSON)")->required();
}

}  // namespace cairn::client::registry
