#include "client/trust_state.h"

#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <filesystem>

#include "client/node_client.h"
#include "common/clock.h"
#include "ledger/proofs.h"

namespace cairn::client {
namespace {

std::string DefaultDir() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && *xdg == '/') return std::string(xdg) + "/cairn";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/.local/state/cairn";
  return "";
}

bool SafeFileName(const std::string& log_id) {
  if (log_id.empty() || log_id.size() > 120 || log_id[0] == '.') return false;
  for (const char c : log_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string ShortHex(const std::string& bytes) {
  const std::string hex = ToHex(bytes);
  return hex.size() > 16 ? hex.substr(0, 8) + "…" + hex.substr(hex.size() - 4) : hex;
}

}  // namespace

void AddStateOptions(CLI::App& cmd, StateOptions& options) {
  CLI::Option* dir =
      cmd.add_option("--state", options.dir,
                     "directory of the remembered checkpoints (default $XDG_STATE_HOME/cairn or "
                     "~/.local/state/cairn)");
  cmd.add_flag("--no-state", options.disabled,
               "neither check nor remember checkpoints (one-off use)")
      ->excludes(dir);
}

std::string DescribeCheckpoint(const cairn::v1::Checkpoint& c) {
  return "log " + c.log_id() + " size " + std::to_string(c.size()) + " root " +
         ShortHex(c.root_hash()) + " of " + FormatTime(ToMicros(c.timestamp()));
}

TrustState::TrustState(const StateOptions& options)
    : dir_(options.disabled      ? ""
           : options.dir.empty() ? DefaultDir()
                                 : options.dir) {}

std::string TrustState::PathOf(const std::string& log_id, const std::string& key_id) const {
  return dir_ + "/" + log_id + "@" + key_id + ".checkpoint.json";
}

Result<std::optional<cairn::v1::SignedCheckpoint>> TrustState::Remembered(
    const std::string& log_id, const std::string& key_id) const {
  if (!enabled() || !SafeFileName(log_id) || !SafeFileName(key_id)) {
    return std::optional<cairn::v1::SignedCheckpoint>();
  }
  const std::string path = PathOf(log_id, key_id);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<cairn::v1::SignedCheckpoint>();
  CAIRN_ASSIGN_OR_RETURN(const std::string text, ReadFileOrStdin(path));
  cairn::v1::SignedCheckpoint saved;
  if (!google::protobuf::util::JsonStringToMessage(text, &saved).ok()) {
    return InvalidArgument("remembered checkpoint " + path +
                           " does not parse; delete it to trust the log afresh");
  }
  return std::optional<cairn::v1::SignedCheckpoint>(std::move(saved));
}

Status TrustState::Remember(const cairn::v1::SignedCheckpoint& signed_now,
                            const std::string& log_id) {
  const std::string& key_id = signed_now.key_id();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Internal("cannot create the state directory " + dir_ + ": " + ec.message());
  return WriteOutputFile(PathOf(log_id, key_id), ToJson(signed_now) + "\n", /*force=*/true)
      .WithPrefix("remembering the checkpoint");
}

Result<TrustState::Outcome> TrustState::Check(const cairn::v1::SignedCheckpoint& signed_now,
                                              const cairn::v1::Checkpoint& now,
                                              const ProveConsistency& prove, bool behind_is_ok) {
  Extends extends;
  if (prove) {
    extends = [&prove](const cairn::v1::Checkpoint& old, const cairn::v1::Checkpoint& next) {
      return VerifyExtends(old, next, prove);
    };
  }
  return Decide(signed_now, now, extends, behind_is_ok);
}

Result<TrustState::Outcome> TrustState::CheckByEntries(
    const cairn::v1::SignedCheckpoint& signed_now, const cairn::v1::Checkpoint& now,
    const RootAt& root_at, bool behind_is_ok) {
  const Extends extends = [&root_at](const cairn::v1::Checkpoint& old,
                                     const cairn::v1::Checkpoint&) -> Status {
    CAIRN_ASSIGN_OR_RETURN(const Hash root, root_at(old.size()));
    if (AsView(root) != old.root_hash()) {
      return DataLoss("its first " + std::to_string(old.size()) + " entries have root " +
                      ShortHex(std::string(AsView(root))));
    }
    return Status::Ok();
  };
  return Decide(signed_now, now, extends, behind_is_ok);
}

Result<TrustState::Outcome> TrustState::Decide(const cairn::v1::SignedCheckpoint& signed_now,
                                               const cairn::v1::Checkpoint& now,
                                               const Extends& extends, bool behind_is_ok) {
  const std::string& key_id = signed_now.key_id();
  if (!enabled() || !SafeFileName(now.log_id()) || !SafeFileName(key_id)) return Outcome::kFirst;
  CAIRN_ASSIGN_OR_RETURN(const auto remembered, Remembered(now.log_id(), key_id));
  if (!remembered) {
    CAIRN_RETURN_IF_ERROR(Remember(signed_now, now.log_id()));
    return Outcome::kFirst;
  }
  cairn::v1::Checkpoint old;
  if (!old.ParseFromString(remembered->checkpoint()) || old.log_id() != now.log_id()) {
    return InvalidArgument("remembered checkpoint " + PathOf(now.log_id(), key_id) +
                           " is not one of this log; delete it to trust the log afresh");
  }
  const std::string both = "remembered " + DescribeCheckpoint(old) + " (" +
                           PathOf(now.log_id(), key_id) + "), received " + DescribeCheckpoint(now);
  if (now.size() == old.size()) {
    if (now.root_hash() != old.root_hash()) {
      return DataLoss("fork: two signed checkpoints of one size with different roots: " + both);
    }
    return Outcome::kSame;
  }
  if (now.size() < old.size()) {
    if (behind_is_ok) return Outcome::kBehind;
    return DataLoss("rollback: the log is smaller than when last verified: " + both);
  }
  if (!extends) return Outcome::kUnproved;
  const Status extended = extends(old, now);
  if (extended.code() == StatusCode::kDataLoss) {
    return DataLoss("fork: the log does not extend the checkpoint last verified (" +
                    extended.message() + "): " + both);
  }
  if (!extended.ok()) {
    return extended.WithPrefix("proving the log extends the checkpoint last verified (" + both +
                               ")");
  }
  CAIRN_RETURN_IF_ERROR(Remember(signed_now, now.log_id()));
  return Outcome::kExtended;
}

Status VerifyExtends(const cairn::v1::Checkpoint& old, const cairn::v1::Checkpoint& now,
                     const TrustState::ProveConsistency& prove) {
  CAIRN_ASSIGN_OR_RETURN(auto path, prove(old.size(), now.size()));
  CAIRN_ASSIGN_OR_RETURN(Hash old_root, ledger::HashFromBytes(old.root_hash(), "older root"));
  CAIRN_ASSIGN_OR_RETURN(Hash new_root, ledger::HashFromBytes(now.root_hash(), "newer root"));
  if (!ledger::VerifyConsistency(old.size(), now.size(), old_root, new_root, path)) {
    return DataLoss("the consistency proof does not verify");
  }
  return Status::Ok();
}

TrustState::ProveConsistency ProverOf(NodeClient& client) {
  return [&client](uint64_t old_size, uint64_t new_size) -> Result<std::vector<Hash>> {
    cairn::v1::GetConsistencyProofRequest request;
    request.set_old_size(old_size);
    request.set_new_size(new_size);
    cairn::v1::GetConsistencyProofResponse response;
    CAIRN_RETURN_IF_ERROR(
        client.Call(&cairn::v1::Ledger::Stub::GetConsistencyProof, request, &response));
    return ledger::HashesFromProto(response.proof().hashes(), "ConsistencyProof.hashes");
  };
}

}  // namespace cairn::client
