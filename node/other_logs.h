// NodeLogs: the logs a node holds besides the one being checked, for custody checks that refer
// across logs (ledger/federated_view.h).
//
// The writer checks an append against its own log and every verified replica; a follower checks
// a peer's entries against the node's own log and the other replicas. Reads only committed data
// (the own log through Storage's reader connection; replicas hold only verified entries).
// Thread-safe: Storage and ReplicaStore reads are.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/federated_view.h"
#include "node/replica_store.h"
#include "node/storage.h"

namespace cairn::node {

class NodeLogs final : public ledger::OtherLogs {
 public:
  // `own` may be null (the writer's own log is its home, not another log); the stores must
  // outlive this.
  // With `missing_is_not_found`, an event held nowhere is NOT_FOUND (evidence not here yet: a
  // follower waits for it to be replicated) rather than unknown (the writer refuses the append).
  NodeLogs(Storage* own, std::vector<const ReplicaStore*> replicas,
           bool missing_is_not_found = false)
      : own_(own), replicas_(std::move(replicas)), missing_is_not_found_(missing_is_not_found) {}

  Result<std::optional<cairn::v1::EventBody>> FindEventBody(
      const std::string& event_id_hex) override;
  Result<std::optional<ledger::LotRecord>> FindLot(const std::string& lot_id) override;

  // The entry holding the event, and its log, in any held log (own first), or nullopt.
  struct Located {
    std::string log_id;
    uint64_t index = 0;
    std::string entry;
  };
  Result<std::optional<Located>> Locate(const std::string& event_id_hex);

 private:
  Storage* const own_;
  const std::vector<const ReplicaStore*> replicas_;
  const bool missing_is_not_found_;
};

}  // namespace cairn::node
