// Trust registry loading on hostile bytes: a registry file (protobuf JSON or binary), its chain of
// versions and registrar signatures verified (keys::TrustRegistry::FromFile). Invariant: no crash
// or sanitizer report; a registry that loads answers lookups of what it lists.
#include <cstdint>

#include "fuzz/fuzz_world.h"
#include "keys/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  static const bool ready = InitCrypto().ok();
  if (!ready) fuzz::Broken("libsodium");
  auto file = keys::ParseRegistryFile(std::string_view(reinterpret_cast<const char*>(data), size),
                                      "fuzz.json");
  if (!file.ok()) return 0;
  auto trust = keys::TrustRegistry::FromFile(*file);
  if (!trust.ok()) return 0;
  for (const auto& participant : trust->registry().participants()) {
    if (trust->FindParticipant(participant.id()) == nullptr) {
      fuzz::Broken("participant " + participant.id() + " listed but not found");
    }
    (void)trust->HomeLogOf(participant.id());
  }
  for (const auto& log : trust->registry().logs()) {
    if (trust->FindLog(log.log_id()) == nullptr) fuzz::Broken("log " + log.log_id());
  }
  return 0;
}
