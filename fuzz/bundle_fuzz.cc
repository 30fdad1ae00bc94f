// The auditor's verification of an evidence bundle (cairn verify --bundle) on hostile bytes: a
// binary cairn.v1.EvidenceBundle, verified against the test consortium with the policy of
// deploy/policies. Invariants: no crash or sanitizer report; the exit code is one of 0, 1, 3, 4;
// a verdict of 0 or 3 has no integrity failure.
#include <cstdint>

#include "cairn/v1/bundle.pb.h"
#include "fuzz/fuzz_world.h"
#include "ledger/lineage_verifier.h"
#include "ledger/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  auto& world = fuzz::World();
  static const ledger::Policy* policy = [] {
    auto parsed = ledger::ParsePolicy(R"(name = "fuzz"
[[restrict]]
countries = ["MM"]
reason = "Kachin State: conflict-financed mining"
)");
    if (!parsed.ok()) fuzz::Broken("seed policy: " + parsed.status().message());
    return new ledger::Policy(std::move(parsed).value());
  }();
  cairn::v1::EvidenceBundle bundle;
  if (!bundle.ParseFromArray(data, static_cast<int>(size))) return 0;
  ledger::LineageOptions options;
  options.as_of_us = cairn::testing::kTestNow;
  options.policy = policy;
  options.threads = 1;
  const ledger::LineageReport report = ledger::VerifyLineage(bundle, world.trust(), options);
  const int code = report.ExitCode();
  if (code != 0 && code != 1 && code != 3 && code != 4) {
    fuzz::Broken("exit code " + std::to_string(code));
  }
  if ((code == 0 || code == 3) && report.HasIntegrityFailure()) {
    fuzz::Broken("verdict " + std::to_string(code) + " with an integrity failure");
  }
  return 0;
}
