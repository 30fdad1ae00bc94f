#include "node/gossip.h"

#include <absl/time/time.h>

#include <utility>

#include "common/clock.h"
#include "keys/registry.h"
#include "ledger/log_verifier.h"
#include "ledger/merkle.h"
#include "ledger/proofs.h"
#include "node/logging.h"

namespace cairn::node {

namespace {

struct Parsed {
  cairn::v1::Checkpoint checkpoint;
  Hash root{};
};

// The checkpoint, when its signature verifies under its log's key in `registry`.
std::optional<Parsed> Verified(const cairn::v1::SignedCheckpoint& signed_checkpoint,
                               const keys::TrustRegistry& registry) {
  auto checkpoint = ledger::VerifyCheckpoint(signed_checkpoint, registry);
  if (!checkpoint.ok()) return std::nullopt;
  auto root = ledger::HashFromBytes(checkpoint->root_hash(), "Checkpoint.root_hash");
  if (!root.ok()) return std::nullopt;
  return Parsed{std::move(checkpoint).value(), *root};
}

cairn::v1::ForkEvidence Evidence(const std::string& log_id, const cairn::v1::SignedCheckpoint& ours,
                                 const cairn::v1::SignedCheckpoint& theirs, std::string reason,
                                 const std::string& peer) {
  cairn::v1::ForkEvidence evidence;
  evidence.set_log_id(log_id);
  *evidence.mutable_ours() = ours;
  *evidence.mutable_theirs() = theirs;
  evidence.set_reason(std::move(reason));
  evidence.set_peer(peer);
  *evidence.mutable_found_at() = FromMicros(SystemClock().NowMicros());
  return evidence;
}

}  // namespace

Gossiper::Gossiper(Sequencer& sequencer, const keys::TrustRegistry& registry,
                   const std::vector<std::unique_ptr<Follower>>& followers, GossipOptions options)
    : sequencer_(sequencer),
      registry_(registry),
      followers_(followers),
      options_(std::move(options)) {
  for (const std::string& peer : options_.peers) {
    stubs_.push_back(
        cairn::v1::Federation::NewStub(grpc::CreateChannel(peer, options_.credentials)));
  }
  peer_versions_.assign(options_.peers.size(), 0);
}

Gossiper::~Gossiper() { Stop(); }

void Gossiper::Start() {
  if (!thread_.joinable() && !stubs_.empty()) thread_ = std::thread([this] { Run(); });
}

void Gossiper::Stop() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

cairn::v1::Gossip Gossiper::Snapshot(bool with_registry) const {
  cairn::v1::Gossip gossip;
  if (with_registry && !options_.registry_path.empty()) {
    auto file = keys::ReadRegistryFile(options_.registry_path);
    if (file.ok()) gossip.set_registry_file(file->SerializeAsString());
  }
  gossip.set_log_id(options_.log_id);
  gossip.set_registry_version(registry_.version());
  *gossip.add_checkpoints() = sequencer_.LatestCheckpoint();
  for (const auto& follower : followers_) {
    if (auto checkpoint = follower->store().checkpoint()) *gossip.add_checkpoints() = *checkpoint;
    for (auto& fork : follower->forks()) *gossip.add_forks() = std::move(fork);
  }
  MutexLock lock(&mutex_);
  for (const auto& [log_id, checkpoint] : heard_) *gossip.add_checkpoints() = checkpoint;
  for (const auto& [log_id, fork] : heard_forks_) *gossip.add_forks() = fork;
  return gossip;
}

std::vector<cairn::v1::ForkEvidence> Gossiper::heard_forks() const {
  MutexLock lock(&mutex_);
  std::vector<cairn::v1::ForkEvidence> forks;
  for (const auto& [log_id, fork] : heard_forks_) forks.push_back(fork);
  return forks;
}

Follower* Gossiper::FollowerOf(const std::string& log_id) const {
  for (const auto& follower : followers_) {
    if (follower->options().log_id == log_id) return follower.get();
  }
  return nullptr;
}

void Gossiper::RecordHeard(cairn::v1::ForkEvidence evidence) {
  MutexLock lock(&mutex_);
  if (heard_forks_.count(evidence.log_id()) != 0) return;
  LogFields(spdlog::level::err, {{"msg", "fork detected"},
                                 {"log_id", evidence.log_id()},
                                 {"peer", evidence.peer()},
                                 {"reason", evidence.reason()}});
  heard_forks_.emplace(evidence.log_id(), std::move(evidence));
}

void Gossiper::Take(const cairn::v1::Gossip& gossip, const std::string& from) {
  if (gossip.registry_version() > registry_.version()) {
    LogFields(spdlog::level::warn,
              {{"msg",
                "a peer uses a newer trust registry; replace the registry file (its chain "
                "must verify from this one) and restart"},
               {"peer", from},
               {"peer_registry_version", gossip.registry_version()},
               {"registry_version", registry_.version()}});
  }
  for (const auto& checkpoint : gossip.checkpoints()) CheckCheckpoint(checkpoint, from);
  for (const auto& fork : gossip.forks()) TakeFork(fork, from);
  if (gossip.registry_version() > registry_.version() && !gossip.registry_file().empty()) {
    TakeRegistry(gossip.registry_file(), from);
  }
}

void Gossiper::TakeRegistry(const std::string& file_bytes, const std::string& from) {
  const auto refuse = [&](const std::string& why) {
    LogFields(spdlog::level::warn,
              {{"msg", "a peer's newer registry is not adopted"}, {"peer", from}, {"why", why}});
  };
  if (options_.registry_path.empty()) return;
  {
    MutexLock lock(&mutex_);
    if (adopted_) return;
  }
  cairn::v1::RegistryFile theirs;
  if (!theirs.ParseFromString(file_bytes)) return refuse("it does not parse");
  // The whole chain must verify (each version signed by the registrars of the one before)...
  auto newer = keys::TrustRegistry::FromFile(theirs);
  if (!newer.ok()) return refuse(newer.status().message());
  if (newer->version() <= registry_.version()) return refuse("it is not newer");
  // ...and extend this node's own versions unchanged: never a rewritten past.
  auto ours = keys::ReadRegistryFile(options_.registry_path);
  if (!ours.ok()) return refuse("cannot read this node's registry: " + ours.status().message());
  if (ours->versions_size() > theirs.versions_size()) return refuse("it has fewer versions");
  for (int i = 0; i < ours->versions_size(); ++i) {
    if (ours->versions(i).registry() != theirs.versions(i).registry()) {
      return refuse("its version " + std::to_string(i + 1) + " differs from this node's");
    }
  }
  if (const Status written = keys::WriteRegistryFile(options_.registry_path, theirs);
      !written.ok()) {
    return refuse("cannot write " + options_.registry_path + ": " + written.message());
  }
  {
    MutexLock lock(&mutex_);
    adopted_ = true;
  }
  LogFields(spdlog::level::warn, {{"msg", "adopted a newer trust registry; restarting to apply it"},
                                  {"peer", from},
                                  {"registry_version", newer->version()},
                                  {"was", registry_.version()},
                                  {"registry", options_.registry_path}});
  if (options_.adopted) options_.adopted(newer->version());
}

void Gossiper::CheckCheckpoint(const cairn::v1::SignedCheckpoint& signed_checkpoint,
                               const std::string& from) {
  const auto theirs = Verified(signed_checkpoint, registry_);
  if (!theirs) return;  // not signed by a log key this node knows: proves nothing
  const std::string& log_id = theirs->checkpoint.log_id();
  const uint64_t size = theirs->checkpoint.size();
  if (log_id == options_.log_id) {
    // Our own log: our key signed it. It must be consistent with our tree.
    const auto ours = Verified(sequencer_.LatestCheckpoint(), registry_);
    if (!ours || size > ours->checkpoint.size()) return;
    auto proof = sequencer_.ConsistencyProof(size, ours->checkpoint.size());
    if (proof.ok() && ledger::VerifyConsistency(size, ours->checkpoint.size(), theirs->root,
                                                ours->root, *proof)) {
      return;
    }
    LogFields(spdlog::level::critical,
              {{"msg",
                "a checkpoint of this node's log signed with its key is not consistent with "
                "the log: the key signed another history (stolen key, or a restored copy "
                "of the database)"},
               {"peer", from},
               {"size", size},
               {"root", ToHex(theirs->root)}});
    return;
  }
  if (Follower* follower = FollowerOf(log_id)) {
    const ReplicaStore& store = follower->store();
    if (!store.forks().empty() || size > store.size()) return;  // nothing to compare yet
    auto root = store.RootAt(size);
    if (!root.ok() || *root == theirs->root) return;
    auto ours = store.checkpoint();
    const Status halted = follower->Halt(Evidence(
        log_id, ours.value_or(cairn::v1::SignedCheckpoint()), signed_checkpoint,
        "a checkpoint of size " + std::to_string(size) + " with root " + ToHex(theirs->root) +
            ", while the entries verified here have root " + ToHex(*root),
        from));
    if (!halted.ok()) {
      LogFields(spdlog::level::err, {{"msg", "cannot record fork evidence"},
                                     {"log_id", log_id},
                                     {"error", halted.message()}});
    }
    return;
  }
  // A log this node only hears of: the same size with another root is a fork.
  cairn::v1::SignedCheckpoint known;
  {
    MutexLock lock(&mutex_);
    auto it = heard_.find(log_id);
    if (it == heard_.end()) {
      heard_.emplace(log_id, signed_checkpoint);
      return;
    }
    known = it->second;
  }
  const auto earlier = Verified(known, registry_);
  if (!earlier) return;
  if (earlier->checkpoint.size() == size && earlier->root != theirs->root) {
    RecordHeard(Evidence(log_id, known, signed_checkpoint,
                         "two checkpoints of size " + std::to_string(size) + " with roots " +
                             ToHex(earlier->root) + " and " + ToHex(theirs->root),
                         from));
    return;
  }
  if (size > earlier->checkpoint.size()) {
    MutexLock lock(&mutex_);
    heard_[log_id] = signed_checkpoint;
  }
}

void Gossiper::TakeFork(const cairn::v1::ForkEvidence& evidence, const std::string& from) {
  const auto ours = Verified(evidence.ours(), registry_);
  const auto theirs = Verified(evidence.theirs(), registry_);
  if (!ours || !theirs || ours->checkpoint.log_id() != theirs->checkpoint.log_id()) return;
  const std::string& log_id = theirs->checkpoint.log_id();
  if (log_id == options_.log_id) return;  // our own log: CheckCheckpoint judges each checkpoint
  // Each checkpoint is checked against what this node holds; two of one size with different
  // roots prove the fork by themselves.
  CheckCheckpoint(evidence.ours(), from);
  CheckCheckpoint(evidence.theirs(), from);
  const bool self_proving =
      ours->checkpoint.size() == theirs->checkpoint.size() && ours->root != theirs->root;
  if (!self_proving) return;
  cairn::v1::ForkEvidence adopted = evidence;
  adopted.set_peer(evidence.peer() + " (reported by " + from + ")");
  if (Follower* follower = FollowerOf(log_id)) {
    if (follower->forks().empty()) (void)follower->Halt(adopted);
    return;
  }
  RecordHeard(std::move(adopted));
}

void Gossiper::Run() {
  while (true) {
    for (size_t i = 0; i < stubs_.size(); ++i) {
      {
        MutexLock lock(&mutex_);
        if (stopping_) return;
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.interval * 3);
      cairn::v1::Gossip answer;
      const grpc::Status s = stubs_[i]->ExchangeCheckpoints(
          &context, Snapshot(peer_versions_[i] < registry_.version()), &answer);
      if (s.ok()) {
        peer_versions_[i] = answer.registry_version();
        Take(answer, options_.peers[i]);
      }
    }
    MutexLock lock(&mutex_);
    mutex_.AwaitWithTimeout(Condition(&stopping_), absl::FromChrono(options_.interval));
    if (stopping_) return;
  }
}

}  // namespace cairn::node
