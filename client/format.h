// How the CLI shows masses, events and times to people.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cairn/v1/event.pb.h"
#include "cairn/v1/log.pb.h"
#include "common/status.h"

namespace cairn::client {

// Event text (ids, names, notes) for a terminal: control and bidirectional characters escaped
// (common/text.h), so a string cannot disguise itself. JSON output stays exact.
std::string ForTerminal(const std::string& text, bool keep_newlines = false);

// "20.000 t", "812.5 kg", "40 g": grams as people read them; exact integers stay in --json.
std::string FormatMass(uint64_t grams);

// "12.5%": a share (0..1) as people read it, one decimal.
std::string Percent(double share);

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

// A message as the CLI's --json prints it: protobuf JSON with proto field names, every field
// printed even when zero or empty (a consumed lot shows "remaining_mass_g": 0), and 64-bit
// integers (masses in grams, sizes, indexes) as JSON numbers, as in all of the CLI's JSON, not as
// the strings of protobuf's JSON mapping. Exact up to 2^53 g (9 billion tonnes).
nlohmann::json DataJson(const google::protobuf::Message& message);

// JSON of a decoded entry with the body as DataJson.
nlohmann::json EntryJson(const DecodedEntry& e);

}  // namespace cairn::client
