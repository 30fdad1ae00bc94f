// cairn export --epcis: a verified lineage as a GS1 EPCIS 2.0 JSON-LD EPCISDocument, for the
// traceability systems that speak EPCIS rather than Cairn's protobuf.
//
// Mapping (identifiers are URNs of the "urn:cairn:" family, since lots, sites and participants
// carry no GS1 keys; parts are percent-encoded):
//  - Extraction: ObjectEvent ADD, bizStep commissioning, disposition active, the new lot in the
//    quantityList (kg, uom KGM), the mine site as readPoint and bizLocation.
//  - Dispatch: ObjectEvent OBSERVE, bizStep shipping, disposition in_transit, the lots shipped,
//    owning_party source (the sender) and destination (the recipient), the shipment as a
//    bizTransaction; transport, permits and HS code in the cairn: namespace.
//  - Receipt: ObjectEvent OBSERVE, bizStep receiving, disposition in_progress, the lots received,
//    owning_party source (the dispatch's sender) and destination (the receiver).
//  - Transformation (refining, separation, blending, ...): TransformationEvent with input and
//    output quantity lists in kg, bizStep commissioning, the facility as readPoint and bizLocation.
//  - Attestation: ObjectEvent OBSERVE, bizStep inspecting, the attested lot (for an attested
//    event, named in cairn:attestedEventId, the lots of that event; an empty epcList when the
//    lineage holds none); kind, result and documents in cairn:.
//  - Correction: not an EPCIS event of its own; it is listed in cairn:corrections of the event it
//    corrects.
// Every EPCIS event carries the signed original in the cairn: namespace (cairn:eventId, logId,
// index, author, keyId, signature, and signedBody: the base64 EventBody bytes the signature is
// over), so a consumer can check it against the registry or fetch it from the log.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "client/lineage_audit.h"
#include "ledger/lineage_verifier.h"

namespace cairn::client::epcis {

using Json = nlohmann::ordered_json;

// The JSON-LD prefix of Cairn's extension fields and the IRI it stands for.
inline constexpr char kPrefix[] = "cairn";
inline constexpr char kNamespace[] = "urn:cairn:epcis:v1:";

// The EPCISDocument of every verified event of `verified` (events in the order they occurred),
// created at `created_at_us`.
Json BuildDocument(const LineageInput& input, const ledger::LineageReport& verified,
                   int64_t created_at_us);

// "urn:cairn:<kind>:<id percent-encoded>", e.g. Urn("lot", "pk-fwo:CHG-2").
std::string Urn(const std::string& kind, const std::string& id);

}  // namespace cairn::client::epcis
