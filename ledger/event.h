// Parsing and identifying signed events and log entries.
//
// Pure functions: no I/O, no clock. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "cairn/v1/event.pb.h"
#include "cairn/v1/log.pb.h"
#include "common/crypto.h"
#include "common/status.h"

namespace cairn::ledger {

// Largest accepted serialized EventBody.
constexpr size_t kMaxEventBodyBytes = 64 * 1024;

// Event id = SHA-256("cairn/event/v1\n" || body).
Hash EventId(std::string_view body);
// Leaf hash = SHA-256(0x00 || entry bytes).
Hash LeafHash(std::string_view entry_bytes);

// A signed event with its body parsed and its id computed.
struct ParsedEvent {
  cairn::v1::SignedEvent signed_event;
  cairn::v1::EventBody body;
  Hash id{};
  std::string id_hex;
};

// Parses `signed_event.body`. INVALID_ARGUMENT when the body is empty, too large, not a valid
// EventBody, or carries unknown fields (which a signer may not have seen rendered).
Result<ParsedEvent> ParseSignedEvent(cairn::v1::SignedEvent signed_event);

// Name of the body's kind as in the schema: "Extraction", "Dispatch", ... or "none".
const char* KindName(const cairn::v1::EventBody& body);

// Signs `body` (serialized EventBody) with `secret_key`, producing a SignedEvent.
cairn::v1::SignedEvent SignEvent(const std::string& body, const std::string& key_id,
                                 const std::string& secret_key);

// Serialized Checkpoint signed with the log key.
cairn::v1::SignedCheckpoint SignCheckpoint(const cairn::v1::Checkpoint& checkpoint,
                                           const std::string& key_id,
                                           const std::string& secret_key);

}  // namespace cairn::ledger
