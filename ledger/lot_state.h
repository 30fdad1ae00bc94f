// LotStateOf: the state of one lot — creation, holdings, in transit, consumed, lost — from every
// event that names it, whichever logs they stand in.
//
// In a federation a lot's events are spread over its holders' home logs: the mine's log creates
// and dispatches it, the refiner's receives and consumes it. A node that holds those logs (its own
// and verified replicas) answers `cairn lot` for it by replaying just the events naming the lot,
// in append order, with the custody arithmetic the rulebook enforces: a creation credits the
// creator, a dispatch moves mass from the sender into transit, a receipt closes the dispatch's
// transit (the shortfall is transit loss) and credits the receiver, a transformation's input is
// consumed. The events were checked when they were appended and replicated; this only adds up.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cairn/v1/event.pb.h"
#include "cairn/v1/ledger.pb.h"

namespace cairn::ledger {

struct LotEvent {
  std::string id_hex;
  cairn::v1::EventBody body;
  int64_t appended_at_us = 0;
  std::string log_id;  // for a stable order of events appended at the same microsecond
  uint64_t index = 0;
};

// nullopt when no event creates the lot.
std::optional<cairn::v1::LotState> LotStateOf(const std::string& lot_id,
                                              std::vector<LotEvent> events);

}  // namespace cairn::ledger
