// cairnd's configuration file on hostile TOML text: the keys applied over the defaults
// (ApplyConfigToml), then validated, then described as --check-config does. Invariant: no crash
// or sanitizer report; a file that applies and validates describes every key.
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_world.h"
#include "node/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  node::NodeConfig config;
  const Status applied =
      node::ApplyConfigToml(std::string_view(reinterpret_cast<const char*>(data), size),
                            "fuzz.toml", "/srv/cairn", config);
  if (!applied.ok()) return 0;
  if (!node::ValidateConfig(config).ok()) return 0;
  const std::string described = node::DescribeConfig(config);
  if (described.find("log_id = ") == std::string::npos) fuzz::Broken("describe: " + described);
  return 0;
}
