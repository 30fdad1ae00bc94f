// The node's append check on hostile bytes. The first byte picks what the rest is:
//   0: one cairn.v1.SignedEvent, as a client sends it, through the node's AppendValidator;
//   1: a sequence of EventBody parts (fuzz_world.h), each signed by its author's key, so that the
//      mutations reach past the signature: every one through the rulebook's CheckEvent against the
//      custody state the accepted ones before it built (custody, mass, lots, shipments).
// Invariants: no crash or sanitizer report; an accepted event's id is the SHA-256 the parse gave,
// and re-parsing its bytes gives the same id.
#include <cstdint>

#include "fuzz/fuzz_world.h"
#include "ledger/event.h"
#include "ledger/memory_state.h"
#include "ledger/rulebook.h"
#include "node/sequencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  auto& world = fuzz::World();
  static const FixedClock clock(cairn::testing::kTestNow);
  static const node::AppendValidator validator(world.trust(), clock, "demo-log",
                                               {"pk-fwo", "us-usm", "jp-magnets", "sgs-lab"});
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    cairn::v1::SignedEvent event;
    if (!event.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;
    auto checked = validator.Check(event);
    if (checked.ok()) {
      auto again = ledger::ParseSignedEvent(checked->signed_event);
      if (!again.ok() || again->id_hex != checked->id_hex) fuzz::Broken("re-parse changed the id");
    }
    return 0;
  }
  ledger::MemoryCustodyState state;
  const cairn::testing::TestKey stranger = cairn::testing::KeyFromSeed(77);
  for (std::string_view part : fuzz::SplitParts(data + 1, size - 1, 16)) {
    cairn::v1::EventBody body;
    if (!body.ParseFromArray(part.data(), static_cast<int>(part.size()))) continue;
    const cairn::testing::TestKey& key =
        world.Participant(body.author()) != nullptr ? world.key(body.author()) : stranger;
    auto parsed =
        ledger::ParseSignedEvent(ledger::SignEvent(std::string(part), key.key_id, key.secret_key));
    if (!parsed.ok()) continue;
    auto effects =
        ledger::CheckEvent(*parsed, world.trust(), "demo-log", cairn::testing::kTestNow, state);
    if (effects.ok()) state.Apply(*parsed, *effects);
  }
  return 0;
}
