// Stateless checks of an event before it may be appended: schema and signature/authority.
//
// Pure functions of their arguments; thread-safe. The same code runs in the node's append path
// and in the auditor's verifier. Every error names the field or rule, e.g.
// "Dispatch.lots[2].mass_g: got 0, want > 0".
#pragma once

#include <string_view>

#include "cairn/v1/event.pb.h"
#include "common/reference_data.h"
#include "common/status.h"
#include "keys/registry.h"
#include "ledger/event.h"

namespace cairn::ledger {

// How far in the future of the node's clock `occurred_at` may be (a node-only rule:
// ledger/rulebook.h, CheckNodeOnly).
constexpr int64_t kMaxFutureSkewMicros = 5LL * 60 * 1000000;

// Schema: required fields, masses > 0 g, compositions summing to <= 1,000,000 ppm with known
// element symbols, ISO 3166-1 country codes, well-formed ids, lot ids owned by the author,
// size limits, a valid occurred_at. INVALID_ARGUMENT on failure. Needs no clock: node and
// auditors apply it alike (ledger/rulebook.h).
Status ValidateSchema(const cairn::v1::EventBody& body);

// Signature and authority: the key id is listed (UNAUTHENTICATED otherwise), the signature over
// "cairn/event/v1\n" || body verifies (UNAUTHENTICATED), the key is the author's and valid at
// occurred_at and not revoked at `appended_at_us` (PERMISSION_DENIED), the author's roles permit
// the event kind (PERMISSION_DENIED).
Status VerifyAuthority(const ParsedEvent& event, const keys::TrustRegistry& registry,
                       int64_t appended_at_us);

// Whether a participant with these roles may author this kind of event.
Status CheckRoleFor(const cairn::v1::EventBody& body, const keys::TrustRegistry& registry);

bool IsParticipantId(std::string_view id);
bool IsLogId(std::string_view id);
// "<participant>:<code>"; code [A-Za-z0-9._/-]{1,80}.
bool IsLotId(std::string_view id);
// Participant part of a lot id ("pk-fwo" of "pk-fwo:CHG-1").
std::string_view LotCreator(std::string_view lot_id);

}  // namespace cairn::ledger
