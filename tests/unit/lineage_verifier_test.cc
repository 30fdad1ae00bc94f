// VerifyLineage over bundles built by TestLog: what an honest node serves verifies; what a
// misbehaving node or a tamperer could serve is caught with the right exit code and finding.
#include "ledger/lineage_verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ledger/rulebook.h"
#include "tests/unit/test_log.h"
#include "tests/unit/test_world.h"

namespace cairn::ledger {
namespace {

using cairn::testing::Body;
using cairn::testing::DispatchOf;
using cairn::testing::kTestNow;
using cairn::testing::ReceiptOf;
using cairn::testing::TestLog;
using cairn::testing::TestWorld;

constexpr int64_t kHour = 3600LL * 1000000;
constexpr int64_t kAsOf2027 = 1803859200LL * 1000000;  // 2027-03-01

using Composition = std::vector<std::pair<std::string, uint32_t>>;

void SetComposition(google::protobuf::Map<std::string, uint32_t>* c, const Composition& values) {
  for (const auto& [element, ppm] : values) (*c)[element] = ppm;
}

cairn::v1::EventBody Extraction(const std::string& author, const std::string& lot,
                                const std::string& site_id, const std::string& site_name,
                                const std::string& country, const std::string& region,
                                uint64_t mass_g, const Composition& ppm) {
  auto b = Body(author, kTestNow - 100 * kHour);
  auto* x = b.mutable_extraction();
  x->set_lot_id(lot);
  x->mutable_site()->set_id(site_id);
  x->mutable_site()->set_name(site_name);
  x->mutable_site()->set_country(country);
  x->mutable_site()->set_region(region);
  x->set_material("REE concentrate");
  x->set_mass_g(mass_g);
  SetComposition(x->mutable_composition_ppm(), ppm);
  return b;
}

struct Output {
  std::string lot;
  std::string material;
  uint64_t mass_g;
  Composition ppm;
};

cairn::v1::EventBody Transform(const std::string& author, const std::string& facility_id,
                               const std::string& country, const std::string& region,
                               cairn::v1::Stage stage,
                               std::vector<std::pair<std::string, uint64_t>> inputs,
                               std::vector<Output> outputs) {
  auto b = Body(author, kTestNow - 50 * kHour);
  auto* t = b.mutable_transformation();
  t->mutable_facility()->set_id(facility_id);
  t->mutable_facility()->set_name(facility_id + " plant");
  t->mutable_facility()->set_country(country);
  t->mutable_facility()->set_region(region);
  t->set_stage(stage);
  for (const auto& [lot, mass] : inputs) {
    auto* in = t->add_inputs();
    in->set_lot_id(lot);
    in->set_mass_g(mass);
  }
  for (const Output& o : outputs) {
    auto* out = t->add_outputs();
    out->set_lot_id(o.lot);
    out->set_material(o.material);
    out->set_mass_g(o.mass_g);
    SetComposition(out->mutable_composition_ppm(), o.ppm);
  }
  return b;
}

class LineageVerifierTest : public ::testing::Test {
 protected:
  LineageVerifierTest() : log_(world_.log_key()) {
    world_.AddParticipant("au-lynas", "Lynas Rare Earths", "AU", {cairn::v1::ROLE_MINE}, 21);
    world_.AddParticipant("my-lynas", "Lynas Malaysia", "MY", {cairn::v1::ROLE_PROCESSOR}, 22);
    world_.AddParticipant("mm-chipwi", "Chipwi Mining", "MM", {cairn::v1::ROLE_MINE}, 23);
    world_.AddParticipant("mm-kia-trading", "Kachin Trading Co", "MM", {cairn::v1::ROLE_TRADER},
                          24);
    world_.Rebuild();
  }

  // Signs and appends; returns the event id.
  std::string Add(const cairn::v1::EventBody& body, int64_t appended_at = kTestNow) {
    return log_.id(log_.Append(world_.Sign(body), appended_at));
  }

  // Ships `lot` from `from` to `to` and receives it in full.
  void Ship(const std::string& from, const std::string& to, const std::string& lot,
            uint64_t mass_g) {
    const std::string dispatch = Add(DispatchOf(from, to, lot, mass_g));
    Add(ReceiptOf(to, dispatch, lot, mass_g));
  }

  // The Pakistan consignment: 25 t of concentrate mined at Chagai, shipped to US Strategic
  // Metals, separated in Missouri into NdPr oxide and La-Ce carbonate.
  void PakistanConsignment() {
    Add(Extraction("pk-fwo", "pk-fwo:CHG-2025-001", "pk-fwo-chagai-01", "Chagai", "PK",
                   "Balochistan", 25'000'000,
                   {{"Ce", 70000}, {"La", 40000}, {"Nd", 61700}, {"Pr", 19900}}));
    Ship("pk-fwo", "us-usm", "pk-fwo:CHG-2025-001", 25'000'000);
    Add(Transform(
        "us-usm", "us-usm-missouri-01", "US", "Missouri", cairn::v1::STAGE_SEPARATED,
        {{"pk-fwo:CHG-2025-001", 25'000'000}},
        {{"us-usm:NDPR-2025-001", "NdPr oxide", 2'000'000, {{"Nd", 600000}, {"Pr", 190000}}},
         {"us-usm:LACE-2025-001",
          "La-Ce carbonate",
          5'000'000,
          {{"La", 150000}, {"Ce", 300000}}}}));
  }

  LineageReport Verify(const cairn::v1::EvidenceBundle& bundle, const Policy* policy = nullptr) {
    LineageOptions options;
    options.as_of_us = kAsOf2027;
    options.policy = policy;
    options.threads = 2;
    return VerifyLineage(bundle, world_.trust(), options);
  }

  static bool HasFinding(const LineageReport& report, Severity severity, const std::string& check,
                         const std::string& event_id) {
    for (const Finding& f : report.findings) {
      if (f.severity == severity && f.check == check &&
          (event_id.empty() || f.event_id == event_id)) {
        return true;
      }
    }
    return false;
  }

  static std::string Dump(const LineageReport& report) {
    std::string out;
    for (const Finding& f : report.findings) {
      out += std::string(SeverityName(f.severity)) + " [" + f.check + "] " + f.message + "\n";
    }
    return out;
  }

  TestWorld world_;
  TestLog log_;
};

TEST_F(LineageVerifierTest, PakistanConsignmentVerifiesAsAllPakistani) {
  PakistanConsignment();
  const LineageReport report = Verify(log_.Bundle("us-usm:NDPR-2025-001"));
  EXPECT_EQ(report.ExitCode(), 0) << Dump(report);
  EXPECT_EQ(report.entries_checked, 4u);
  EXPECT_EQ(report.lineage_lots.size(), 2u);
  ASSERT_TRUE(report.attribution.has_value());
  EXPECT_NEAR(report.attribution->mass.by_country.at("PK"), 1.0, 1e-12);
  EXPECT_NEAR(report.attribution->mass.by_mine.at("pk-fwo"), 1.0, 1e-12);
  EXPECT_NEAR(report.attribution->mass.by_facility.at("us-usm-missouri-01"), 1.0, 1e-12);
}

TEST_F(LineageVerifierTest, BlendOfAustralianAndPakistaniConcentrateHasMassWeightedShares) {
  Add(Extraction("pk-fwo", "pk-fwo:CHG-1", "pk-fwo-chagai-01", "Chagai", "PK", "Balochistan",
                 10'000'000, {{"Nd", 61700}, {"Pr", 19900}}));
  Ship("pk-fwo", "us-usm", "pk-fwo:CHG-1", 10'000'000);
  Add(Extraction("au-lynas", "au-lynas:MTW-1", "au-mt-weld", "Mt Weld", "AU", "Western Australia",
                 40'000'000, {{"Nd", 70000}, {"Pr", 20000}}));
  Ship("au-lynas", "my-lynas", "au-lynas:MTW-1", 40'000'000);
  Add(Transform(
      "my-lynas", "my-lynas-gebeng", "MY", "Pahang", cairn::v1::STAGE_REFINED,
      {{"au-lynas:MTW-1", 40'000'000}},
      {{"my-lynas:MREC-1", "mixed RE carbonate", 12'000'000, {{"Nd", 200000}, {"Pr", 60000}}}}));
  Ship("my-lynas", "us-usm", "my-lynas:MREC-1", 12'000'000);
  Add(Transform("us-usm", "us-usm-missouri-01", "US", "Missouri", cairn::v1::STAGE_SEPARATED,
                {{"pk-fwo:CHG-1", 10'000'000}, {"my-lynas:MREC-1", 12'000'000}},
                {{"us-usm:NDPR-1", "NdPr oxide", 3'000'000, {{"Nd", 600000}, {"Pr", 190000}}}}));
  const LineageReport report = Verify(log_.Bundle("us-usm:NDPR-1"));
  ASSERT_EQ(report.ExitCode(), 0) << Dump(report);
  const OriginShares& mass = report.attribution->mass;
  EXPECT_NEAR(mass.by_country.at("PK"), 10.0 / 22.0, 1e-12);
  EXPECT_NEAR(mass.by_country.at("AU"), 12.0 / 22.0, 1e-12);
  EXPECT_NEAR(mass.by_facility_country.at("MY"), 12.0 / 22.0, 1e-12);
  // Neodymium: 617 kg from Pakistan, 2,400 kg through Malaysia.
  const OriginShares& nd = report.attribution->by_element.at("Nd");
  EXPECT_NEAR(nd.by_country.at("PK"), 617.0 / 3017.0, 1e-9);
}

// A trader commingles Pakistani and Australian concentrate in a Ganzhou yard: a blend, not a
// refinery. It may author it (a chemical stage it may not), the output must declare the
// mass-weighted mix, and policy rules on the DFARS stages do not see a blend unless they name it.
TEST_F(LineageVerifierTest, BlendingYardIsATradersMassWeightedMixNotAProcessingStage) {
  world_.AddParticipant("cn-gz-trading", "Ganzhou Rare Earth Trading", "CN",
                        {cairn::v1::ROLE_TRADER}, 25);
  world_.Rebuild();
  Add(Extraction("pk-fwo", "pk-fwo:CHG-7", "pk-fwo-chagai-01", "Chagai", "PK", "Balochistan",
                 10'000'000, {{"Nd", 61700}, {"Pr", 19900}}));
  Ship("pk-fwo", "cn-gz-trading", "pk-fwo:CHG-7", 10'000'000);
  Add(Extraction("au-lynas", "au-lynas:MTW-7", "au-mt-weld", "Mt Weld", "AU", "Western Australia",
                 30'000'000, {{"Nd", 70000}, {"Pr", 20000}}));
  Ship("au-lynas", "cn-gz-trading", "au-lynas:MTW-7", 30'000'000);
  const auto blend = [&](const std::string& lot, uint64_t mass_g, uint32_t nd_ppm) {
    return Transform("cn-gz-trading", "cn-gz-yard-3", "CN", "Jiangxi", cairn::v1::STAGE_BLENDED,
                     {{"pk-fwo:CHG-7", 5'000'000}, {"au-lynas:MTW-7", 15'000'000}},
                     {{lot, "REE concentrate blend", mass_g, {{"Nd", nd_ppm}, {"Pr", 19975}}}});
  };
  // Nd: (5 t x 61,700 + 15 t x 70,000) / 20 t = 67,925 ppm.
  const std::string honest = Add(blend("cn-gz-trading:BL-1", 20'000'000, 67925));
  // The same yard may not call a blend a refinery.
  auto refinery = blend("cn-gz-trading:BL-X", 20'000'000, 67925);
  refinery.mutable_transformation()->set_stage(cairn::v1::STAGE_REFINED);
  const Status refused =
      CheckEventAlone(world_.Sign(refinery), world_.trust(), "demo-log", kTestNow);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused.ToString();

  auto dfars = ParsePolicy(R"toml(name = "defence magnets 2027"
[[restrict]]
countries = ["CN", "RU", "KP", "IR"]
stages = ["mined", "refined", "separated", "melted", "produced"]
reason = "DFARS 252.225-7052"
)toml");
  ASSERT_TRUE(dfars.ok()) << dfars.status().ToString();
  LineageReport report = Verify(log_.Bundle("cn-gz-trading:BL-1"), &*dfars);
  EXPECT_EQ(report.ExitCode(), 0) << Dump(report);
  EXPECT_NEAR(report.attribution->mass.by_country.at("AU"), 0.75, 1e-12);

  auto blends = ParsePolicy(R"toml(name = "no Chinese blending"
[[restrict]]
countries = ["CN"]
stages = ["blended"]
reason = "commingled in CN"
)toml");
  ASSERT_TRUE(blends.ok()) << blends.status().ToString();
  report = Verify(log_.Bundle("cn-gz-trading:BL-1"), &*blends);
  EXPECT_EQ(report.ExitCode(), 3) << Dump(report);
  ASSERT_FALSE(report.violations.empty());
  EXPECT_NE(report.violations[0].source.find("blended at cn-gz-yard-3"), std::string::npos)
      << report.violations[0].source;

  // 15 t declared at 75,000 ppm Nd: no more Nd out than in (1,125 <= 1,358.5 kg), but not the mix.
  const std::string upgraded = Add(blend("cn-gz-trading:BL-2", 15'000'000, 75000));
  report = Verify(log_.Bundle("cn-gz-trading:BL-2"));
  EXPECT_EQ(report.ExitCode(), 1) << Dump(report);
  EXPECT_TRUE(HasFinding(report, Severity::kIntegrity, "blend", upgraded)) << Dump(report);
  EXPECT_FALSE(HasFinding(report, Severity::kIntegrity, "mass", upgraded)) << Dump(report);

  // Grades only (no element to balance): 20 t in cannot come out as 24 t.
  auto heavier = Transform("cn-gz-trading", "cn-gz-yard-3", "CN", "Jiangxi",
                           cairn::v1::STAGE_BLENDED, {{"cn-gz-trading:BL-1", 20'000'000}},
                           {{"cn-gz-trading:BL-3", "REE concentrate blend", 24'000'000, {}}});
  const std::string inflated = Add(heavier);
  report = Verify(log_.Bundle("cn-gz-trading:BL-3"));
  EXPECT_EQ(report.ExitCode(), 1) << Dump(report);
  EXPECT_TRUE(HasFinding(report, Severity::kIntegrity, "blend", inflated)) << Dump(report);
  EXPECT_NE(Dump(report).find("outputs weigh 24000.000 kg, inputs 20000.000 kg"), std::string::npos)
      << Dump(report);
  (void)honest;
}

TEST_F(LineageVerifierTest, KachinMaterialTwoHopsUpstreamIsRestrictedWithShareAndPath) {
  const std::string kachin =
      Add(Extraction("mm-chipwi", "mm-chipwi:KC-2025-07", "mm-chipwi-01", "Chipwi", "MM", "Kachin",
                     5'000'000, {{"Nd", 150000}, {"Pr", 40000}, {"Dy", 30000}}));
  Ship("mm-chipwi", "mm-kia-trading", "mm-chipwi:KC-2025-07", 5'000'000);
  Ship("mm-kia-trading", "my-lynas", "mm-chipwi:KC-2025-07", 5'000'000);
  Add(Extraction("au-lynas", "au-lynas:MTW-2", "au-mt-weld", "Mt Weld", "AU", "Western Australia",
                 30'000'000, {{"Nd", 70000}, {"Pr", 20000}}));
  Ship("au-lynas", "my-lynas", "au-lynas:MTW-2", 30'000'000);
  Add(Transform(
      "my-lynas", "my-lynas-gebeng", "MY", "Pahang", cairn::v1::STAGE_REFINED,
      {{"au-lynas:MTW-2", 30'000'000}, {"mm-chipwi:KC-2025-07", 5'000'000}},
      {{"my-lynas:MREC-2", "mixed RE carbonate", 10'000'000, {{"Nd", 250000}, {"Pr", 70000}}}}));
  Ship("my-lynas", "us-usm", "my-lynas:MREC-2", 10'000'000);
  Add(Extraction("pk-fwo", "pk-fwo:CHG-2", "pk-fwo-chagai-01", "Chagai", "PK", "Balochistan",
                 10'000'000, {{"Nd", 61700}, {"Pr", 19900}}));
  Ship("pk-fwo", "us-usm", "pk-fwo:CHG-2", 10'000'000);
  const std::string separation = Add(
      Transform("us-usm", "us-usm-missouri-01", "US", "Missouri", cairn::v1::STAGE_SEPARATED,
                {{"my-lynas:MREC-2", 10'000'000}, {"pk-fwo:CHG-2", 10'000'000}},
                {{"us-usm:NDPR-2", "NdPr oxide", 3'000'000, {{"Nd", 600000}, {"Pr", 190000}}}}));
  auto policy = ParsePolicy(R"toml(
name = "conflict-free"
[[restrict]]
regions = [{ country = "MM", region = "Kachin" }]
reason = "conflict-affected and high-risk area (OECD Annex II)"
)toml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const LineageReport report = Verify(log_.Bundle("us-usm:NDPR-2"), &*policy);
  ASSERT_EQ(report.ExitCode(), 3) << Dump(report);
  ASSERT_EQ(report.violations.size(), 1u);
  // 5 of 35 t into the carbonate, which is half of the oxide's inputs.
  EXPECT_NEAR(report.violations[0].share, 0.5 * 5.0 / 35.0, 1e-12);
  const auto& path = report.violations[0].path_event_ids;
  ASSERT_GE(path.size(), 2u);
  EXPECT_EQ(path.front(), kachin);
  EXPECT_EQ(path.back(), separation);
  // Without the policy the same evidence verifies.
  EXPECT_EQ(Verify(log_.Bundle("us-usm:NDPR-2")).ExitCode(), 0);
}

TEST_F(LineageVerifierTest, DysprosiumFromNowhereIsAnIntegrityFailureNamingTheExcess) {
  PakistanConsignment();
  // Pakistan's concentrate declares no Dy; 500 kg of 87% Dy oxide cannot come from it.
  const std::string laundering =
      Add(Transform("us-usm", "us-usm-missouri-01", "US", "Missouri", cairn::v1::STAGE_SEPARATED,
                    {{"us-usm:LACE-2025-001", 1'000'000}},
                    {{"us-usm:DY-2025-001", "Dy oxide", 500'000, {{"Dy", 870000}}}}));
  const LineageReport report = Verify(log_.Bundle("us-usm:DY-2025-001"));
  EXPECT_EQ(report.ExitCode(), 1) << Dump(report);
  bool named = false;
  for (const Finding& f : report.findings) {
    if (f.check == "mass" && f.event_id == laundering &&
        f.message.find("Dy") != std::string::npos &&
        f.message.find("435.000 kg") != std::string::npos) {
      named = true;
    }
  }
  EXPECT_TRUE(named) << Dump(report);
}

TEST_F(LineageVerifierTest, DispatchBeyondTheHoldingIsACustodyFinding) {
  Add(Extraction("pk-fwo", "pk-fwo:CHG-3", "pk-fwo-chagai-01", "Chagai", "PK", "Balochistan",
                 20'000'000, {{"Nd", 61700}}));
  // A node that skipped its custody check accepted 25 t out of a 20 t lot.
  const std::string dispatch = Add(DispatchOf("pk-fwo", "us-usm", "pk-fwo:CHG-3", 25'000'000));
  Add(ReceiptOf("us-usm", dispatch, "pk-fwo:CHG-3", 25'000'000));
  const LineageReport report = Verify(log_.Bundle("pk-fwo:CHG-3"));
  EXPECT_EQ(report.ExitCode(), 1) << Dump(report);
  EXPECT_TRUE(HasFinding(report, Severity::kIntegrity, "custody", dispatch)) << Dump(report);
}

TEST_F(LineageVerifierTest, ReceiptOfADispatchAddressedToSomeoneElseIsACustodyFinding) {
  Add(Extraction("pk-fwo", "pk-fwo:CHG-4", "pk-fwo-chagai-01", "Chagai", "PK", "Balochistan",
                 20'000'000, {{"Nd", 61700}}));
  const std::string dispatch = Add(DispatchOf("pk-fwo", "us-usm", "pk-fwo:CHG-4", 20'000'000));
  const std::string receipt = Add(ReceiptOf("jp-magnets", dispatch, "pk-fwo:CHG-4", 20'000'000));
  const LineageReport report = Verify(log_.Bundle("pk-fwo:CHG-4"));
  EXPECT_EQ(report.ExitCode(), 1) << Dump(report);
  EXPECT_TRUE(HasFinding(report, Severity::kIntegrity, "custody", receipt)) << Dump(report);
}

TEST_F(LineageVerifierTest, KeyRevokedAfterTheEventStillVerifiesRevokedBeforeDoesNot) {
  PakistanConsignment();
  const cairn::v1::EvidenceBundle bundle = log_.Bundle("us-usm:NDPR-2025-001");
  // Revoked an hour after the entries were appended: every signature still stands.
  world_.Participant("pk-fwo")->mutable_keys(0)->mutable_revoked_at()->CopyFrom(
      FromMicros(kTestNow + kHour));
  world_.Rebuild();
  EXPECT_EQ(Verify(bundle).ExitCode(), 0) << Dump(Verify(bundle));
  // Revoked (a compromise discovered) before the node appended pk-fwo's events.
  world_.Participant("pk-fwo")->mutable_keys(0)->mutable_revoked_at()->CopyFrom(
      FromMicros(kTestNow - kHour));
  world_.Rebuild();
  const LineageReport report = Verify(bundle);
  EXPECT_EQ(report.ExitCode(), 1) << Dump(report);
  EXPECT_TRUE(HasFinding(report, Severity::kIntegrity, "signature", log_.id(0))) << Dump(report);
}

TEST_F(LineageVerifierTest, MissingExtractionMakesTheLineageIncomplete) {
  PakistanConsignment();
  const LineageReport report = Verify(log_.Bundle("us-usm:NDPR-2025-001", {1, 2, 3}));
  EXPECT_EQ(report.ExitCode(), 4) << Dump(report);
  EXPECT_NEAR(report.attribution->mass.unknown, 1.0, 1e-12);
}

TEST_F(LineageVerifierTest, MissingReceiptMakesTheLineageIncomplete) {
  PakistanConsignment();
  const LineageReport report = Verify(log_.Bundle("us-usm:NDPR-2025-001", {0, 1, 3}));
  EXPECT_EQ(report.ExitCode(), 4) << Dump(report);
  EXPECT_TRUE(HasFinding(report, Severity::kIncomplete, "missing", log_.id(3))) << Dump(report);
}

TEST_F(LineageVerifierTest, RestrictedSourceOnVerifiedEvidenceWinsOverMissingParts) {
  PakistanConsignment();
  auto policy = ParsePolicy("[[restrict]]\ncountries = [\"PK\"]\nreason = \"test\"\n");
  ASSERT_TRUE(policy.ok());
  // The receipt is missing (4) but the Pakistani origin is proven (3): 3 wins.
  EXPECT_EQ(Verify(log_.Bundle("us-usm:NDPR-2025-001", {0, 1, 3}), &*policy).ExitCode(), 3);
}

TEST_F(LineageVerifierTest, EveryByteFlippedInTheEvidenceIsCaught) {
  PakistanConsignment();
  const cairn::v1::EvidenceBundle bundle = log_.Bundle("us-usm:NDPR-2025-001");
  ASSERT_EQ(Verify(bundle).ExitCode(), 0);
  int flips = 0;
  for (int e = 0; e < bundle.entries_size(); ++e) {
    const std::string& entry = bundle.entries(e).entry();
    for (size_t i = 0; i < entry.size(); i += 7) {
      cairn::v1::EvidenceBundle mutated = bundle;
      (*mutated.mutable_entries(e)->mutable_entry())[i] ^= 0x01;
      const int code = Verify(mutated).ExitCode();
      EXPECT_EQ(code, 1) << "entry " << e << " byte " << i;
      ++flips;
    }
    cairn::v1::EvidenceBundle mutated = bundle;
    (*mutated.mutable_entries(e)->mutable_inclusion()->mutable_hashes(0))[5] ^= 0x80;
    EXPECT_EQ(Verify(mutated).ExitCode(), 1) << "proof of entry " << e;
  }
  const std::string& checkpoint = bundle.checkpoints(0).checkpoint();
  for (size_t i = 0; i < checkpoint.size(); ++i) {
    cairn::v1::EvidenceBundle mutated = bundle;
    (*mutated.mutable_checkpoints(0)->mutable_checkpoint())[i] ^= 0x04;
    EXPECT_NE(Verify(mutated).ExitCode(), 0) << "checkpoint byte " << i;
  }
  EXPECT_GT(flips, 50);
}

TEST_F(LineageVerifierTest, UnknownFieldsInTheBundleAreRefused) {
  PakistanConsignment();
  cairn::v1::EvidenceBundle bundle = log_.Bundle("us-usm:NDPR-2025-001");
  bundle.mutable_entries(1)
      ->GetReflection()
      ->MutableUnknownFields(bundle.mutable_entries(1))
      ->AddVarint(99, 1);
  EXPECT_EQ(Verify(bundle).ExitCode(), 1);
}

// Random valid worlds: mines extract, ship to a processor, which blends and splits at random.
// Every one verifies, its shares sum to 1, and a flipped byte in any entry is caught.
TEST_F(LineageVerifierTest, RandomValidWorldsVerifyAndAnyMutationIsCaught) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    TestLog log(world_.log_key());
    std::mt19937 rng(seed);
    std::vector<std::pair<std::string, uint64_t>> available;  // lots us-usm holds, remaining g
    int lot_count = 0;
    auto add = [&](const cairn::v1::EventBody& body) {
      return log.id(log.Append(world_.Sign(body)));
    };
    const int mines = 5 + static_cast<int>(rng() % 20);
    for (int m = 0; m < mines; ++m) {
      const bool au = rng() % 2 == 0;
      const std::string lot = (au ? "au-lynas:L" : "pk-fwo:L") + std::to_string(m);
      const uint64_t mass = 1'000'000 + rng() % 50'000'000;
      add(Extraction(au ? "au-lynas" : "pk-fwo", lot, au ? "au-mt-weld" : "pk-chagai",
                     au ? "Mt Weld" : "Chagai", au ? "AU" : "PK", "", mass,
                     {{"Nd", 50000 + rng() % 30000}, {"Pr", 10000 + rng() % 10000}}));
      const std::string d = add(DispatchOf(au ? "au-lynas" : "pk-fwo", "us-usm", lot, mass));
      add(ReceiptOf("us-usm", d, lot, mass));
      available.emplace_back(lot, mass);
      ++lot_count;
    }
    std::string target;
    int step = 0;
    while (lot_count < (seed == 3 ? 1000 : 100 * static_cast<int>(seed)) && !available.empty()) {
      // Consume 1-3 random lots, produce 1-2 outputs with the inputs' lowest Nd/Pr grade.
      std::vector<std::pair<std::string, uint64_t>> inputs;
      const size_t n = std::min<size_t>(available.size(), 1 + rng() % 3);
      for (size_t i = 0; i < n; ++i) {
        const size_t pick = rng() % available.size();
        auto& [lot, remaining] = available[pick];
        // A lot is listed once per transformation (the schema refuses it twice).
        // (clang 14 cannot capture a structured binding: compare with a copy.)
        const std::string lot_id = lot;
        if (std::any_of(inputs.begin(), inputs.end(),
                        [&](const auto& in) { return in.first == lot_id; })) {
          continue;
        }
        const uint64_t take = remaining <= 2'000 ? remaining : 1'000 + rng() % (remaining - 1'000);
        inputs.emplace_back(lot, take);
        remaining -= take;
        if (remaining == 0) available.erase(available.begin() + static_cast<long>(pick));
        if (available.empty()) break;
      }
      uint64_t total = 0;
      for (const auto& in : inputs) total += in.second;
      std::vector<Output> outputs;
      const int outs = 1 + static_cast<int>(rng() % 2);
      for (int o = 0; o < outs; ++o) {
        const std::string lot = "us-usm:P" + std::to_string(step) + "-" + std::to_string(o);
        // Outputs declare 1% Nd: never more than any input's 5%+ could supply.
        outputs.push_back(
            {lot, "mixed oxide", std::max<uint64_t>(1, total / (2 * outs)), {{"Nd", 10000}}});
        available.emplace_back(lot, std::max<uint64_t>(1, total / (2 * outs)));
        target = lot;
        ++lot_count;
      }
      add(Transform("us-usm", "us-usm-missouri-01", "US", "Missouri", cairn::v1::STAGE_REFINED,
                    inputs, outputs));
      ++step;
    }
    const cairn::v1::EvidenceBundle bundle = log.Bundle(target);
    const LineageReport report = Verify(bundle);
    ASSERT_EQ(report.ExitCode(), 0) << "seed " << seed << "\n" << Dump(report);
    double sum = report.attribution->mass.unknown;
    for (const auto& [country, share] : report.attribution->mass.by_country) sum += share;
    EXPECT_NEAR(sum, 1.0, 1e-9) << "seed " << seed;
    for (int trial = 0; trial < 20; ++trial) {
      cairn::v1::EvidenceBundle mutated = bundle;
      const int e = static_cast<int>(rng() % static_cast<uint32_t>(bundle.entries_size()));
      std::string* entry = mutated.mutable_entries(e)->mutable_entry();
      (*entry)[rng() % entry->size()] ^= static_cast<char>(1 + rng() % 255);
      EXPECT_EQ(Verify(mutated).ExitCode(), 1) << "seed " << seed << " entry " << e;
    }
  }
}

}  // namespace
}  // namespace cairn::ledger
