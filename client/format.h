// How the CLI shows masses, events and times to people.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cairn/v1/event.pb.h"
#include "cairn/v1/log.pb.h"
#include "common/status.h"

namespace cairn::client {

// "20.000 t", "812.5 kg", "40 g": grams as people read them; exact integers stay in --json.
std::string FormatMass(uint64_t grams);

// "mined", "refined", "separated", "melted", "produced" (the DFARS stage words).
const char* StageName(cairn::v1::Stage stage);

// One line describing what an event says, e.g. "lot pk-fwo:CHG-1, 20.000 t REE concentrate,
// Chagai (PK)".
std::string Summarize(const cairn::v1::EventBody& body);

// A stored entry decoded for display: index, log, appended_at, event id, key id, body.
struct DecodedEntry {
  cairn::v1::LogEntry entry;
  cairn::v1::EventBody body;
  std::string event_id;
};
Result<DecodedEntry> DecodeEntry(const std::string& entry_bytes);

// JSON of a decoded entry with the body as protobuf JSON.
nlohmann::json EntryJson(const DecodedEntry& e);

}  // namespace cairn::client
