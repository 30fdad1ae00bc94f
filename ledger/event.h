// Parsing and identifying signed events and log entries.
//
// Pure functions: no I/O, no clock. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  // The public key under which the caller has already verified `signed_event.signature` (on
  // another thread, ahead of the sequential checks); empty when it has not. VerifyAuthority
  // skips the Ed25519 check only when this equals the registry's key for signed_event.key_id.
  std::string signature_verified_with;
};

// Parses `signed_event.body`. INVALID_ARGUMENT when the body is empty, too large, not a valid
// EventBody, or carries unknown fields (which a signer may not have seen rendered).
Result<ParsedEvent> ParseSignedEvent(cairn::v1::SignedEvent signed_event);

// Name of the body's kind as in the schema: "Extraction", "Dispatch", ... or "none".
const char* KindName(const cairn::v1::EventBody& body);

// How an event names a lot.
enum class LotUse : int {
  kCreated = 1,     // Extraction.lot_id, Transformation.outputs[].lot_id
  kDispatched = 2,  // Dispatch.lots[].lot_id
  kReceived = 3,    // Receipt.lots[].lot_id
  kConsumed = 4,    // Transformation.inputs[].lot_id
  kAttested = 5,    // Attestation.lot_id
};

// The lots the body names, with how: an extraction's lot, a dispatch's, receipt's and
// transformation's lots (inputs, then outputs), an attestation's lot. In body order; a lot named
// twice is listed twice. Pointers into `body`.
std::vector<std::pair<const std::string*, LotUse>> LotsNamedBy(const cairn::v1::EventBody& body);

// The event a Correction corrects or an Attestation of an event attests (64 hex characters as
// given), or nullptr for other bodies. Such evidence belongs to the lineage of that event's lots.
const std::string* EvidenceTargetOf(const cairn::v1::EventBody& body);

// Longest chain of evidence about evidence (a correction of an attestation of an event ...)
// that is followed to the lots it concerns.
inline constexpr int kMaxEvidenceChain = 8;

// Signs `body` (serialized EventBody) with `secret_key`, producing a SignedEvent.
cairn::v1::SignedEvent SignEvent(const std::string& body, const std::string& key_id,
                                 const std::string& secret_key);

// Serialized Checkpoint signed with the log key.
cairn::v1::SignedCheckpoint SignCheckpoint(const cairn::v1::Checkpoint& checkpoint,
                                           const std::string& key_id,
                                           const std::string& secret_key);

}  // namespace cairn::ledger
