// Gossiper: exchanges the latest signed checkpoint of every log with each peer, and catches forks
// that a node's own followers would not see.
//
// Every `interval` the node sends each [[peer]] its view (Federation.ExchangeCheckpoints: the
// checkpoint of its own log and of each replica, what it has heard of other logs, its registry
// version and its fork evidence) and takes the peer's answer; a peer calling in is answered the
// same way. Each checkpoint heard is checked, once its signature verifies under the log's key:
//   - of the node's own log: it must be consistent with the node's tree (else its key signed
//     another history: logged as critical);
//   - of a replica: one of a size the replica holds must have the root of its first entries
//     (else fork evidence is stored, the follower stops for good);
//   - of a log the node only hears of: two of one size with different roots are a fork.
// Fork evidence heard is adopted when it proves itself (two valid checkpoints of one log and
// size with different roots) or conflicts with what the node holds. A newer registry version at
// a peer is logged (adopting it is an operator's act: replace the registry file and restart).
// Thread-safe.
#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cairn/v1/federation.grpc.pb.h"
#include "common/status.h"
#include "common/sync.h"
#include "keys/registry.h"
#include "node/follower.h"
#include "node/sequencer.h"

namespace cairn::node {

struct GossipOptions {
  std::string log_id;              // the node's own
  std::vector<std::string> peers;  // addresses
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::chrono::milliseconds interval{1000};
  // The node's registry file: a newer registry a peer sends is written here once it verifies.
  std::string registry_path;
  // Called once a newer registry was written: the node restarts to apply it. May be empty.
  std::function<void(uint64_t version)> adopted;
};

class Gossiper {
 public:
  // `sequencer`, `registry` and `followers` must outlive the Gossiper.
  Gossiper(Sequencer& sequencer, const keys::TrustRegistry& registry,
           const std::vector<std::unique_ptr<Follower>>& followers, GossipOptions options);
  ~Gossiper();  // Stop()s
  Gossiper(const Gossiper&) = delete;
  Gossiper& operator=(const Gossiper&) = delete;

  void Start();
  void Stop();

  // This node's view, to send; with its registry file when `with_registry`.
  cairn::v1::Gossip Snapshot(bool with_registry = false) const;
  // Checks what `from` said.
  void Take(const cairn::v1::Gossip& gossip, const std::string& from);
  // Forks proved of logs this node does not hold (those of replicas are in their stores).
  std::vector<cairn::v1::ForkEvidence> heard_forks() const;

 private:
  void Run();
  void CheckCheckpoint(const cairn::v1::SignedCheckpoint& signed_checkpoint,
                       const std::string& from);
  void TakeFork(const cairn::v1::ForkEvidence& evidence, const std::string& from);
  // Adopts a newer registry file that verifies and extends this node's.
  void TakeRegistry(const std::string& file_bytes, const std::string& from);
  Follower* FollowerOf(const std::string& log_id) const;
  // Records evidence of a fork of a log this node does not hold, once per log.
  void RecordHeard(cairn::v1::ForkEvidence evidence);

  Sequencer& sequencer_;
  const keys::TrustRegistry& registry_;
  const std::vector<std::unique_ptr<Follower>>& followers_;
  const GossipOptions options_;
  std::vector<std::unique_ptr<cairn::v1::Federation::Stub>> stubs_;

  mutable Mutex mutex_;
  // Logs heard of but not held: the latest checkpoint of each.
  std::map<std::string, cairn::v1::SignedCheckpoint> heard_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, cairn::v1::ForkEvidence> heard_forks_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool adopted_ ABSL_GUARDED_BY(mutex_) = false;  // a newer registry was written: restarting
  std::vector<uint64_t> peer_versions_;           // registry version each peer last announced
  std::thread thread_;
};

}  // namespace cairn::node
