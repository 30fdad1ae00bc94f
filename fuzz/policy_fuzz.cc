// Restricted-source policy loading (cairn verify --policy) on hostile TOML text. Invariant: no
// crash or sanitizer report (toml++ throws on syntax errors: ParsePolicy must turn every one into
// INVALID_ARGUMENT).
#include <cstdint>
#include <string_view>

#include "ledger/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto policy =
      cairn::ledger::ParsePolicy(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)policy;
  return 0;
}
