#include "ledger/attribution.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ledger/lineage.h"
#include "ledger/policy.h"
#include "test_world.h"

namespace cairn::ledger {
namespace {

using cairn::testing::Body;
using Composition = std::map<std::string, uint32_t>;

constexpr int64_t kSecond = 1000000;
constexpr int64_t kJune2026 = 1780272000LL * kSecond;   // 2026-06-01
constexpr int64_t kMarch2027 = 1803859200LL * kSecond;  // 2027-03-01

struct Place {
  std::string id;
  std::string name;
  std::string country;
  std::string region;
};

const Place kChagai{"pk-fwo-chagai-01", "Chagai rare-earth prospect", "PK", "Balochistan"};
const Place kMtWeld{"au-lynas-mt-weld", "Mt Weld", "AU", "Western Australia"};
const Place kChipwi{"mm-kachin-chipwi-01", "Chipwi", "MM", "Kachin"};
const Place kUsm{"us-usm-missouri-01", "USSM Missouri separation plant", "US", "Missouri"};
const Place kGebeng{"my-lynas-gebeng-01", "Lynas Malaysia, Gebeng", "MY", "Pahang"};
const Place kGanzhou{"cn-ganzhou-01", "Ganzhou separation plant", "CN", "Jiangxi"};
const Place kFukui{"jp-nmw-fukui-01", "Nippon Magnet Works, Fukui", "JP", "Fukui"};

struct Flow {
  std::string lot;
  uint64_t mass_g;
};

struct Output {
  std::string lot;
  std::string material;
  uint64_t mass_g;
  Composition composition;
};

// Builds a LineageGraph from unsigned event bodies with made-up event ids (the graph takes events
// the caller has verified; signatures play no part here).
class GraphBuilder {
 public:
  LineageGraph graph;

  std::string Add(const cairn::v1::EventBody& body) {
    char id[65];
    std::snprintf(id, sizeof id, "%064llx", static_cast<unsigned long long>(++count_));
    graph.Add(id, body, EventLocation{"demo-log", count_, 0});
    return id;
  }

  std::string Mine(const std::string& author, const std::string& lot, const Place& site,
                   uint64_t mass_g, const Composition& composition) {
    auto b = Body(author);
    auto* x = b.mutable_extraction();
    x->set_lot_id(lot);
    x->mutable_site()->set_id(site.id);
    x->mutable_site()->set_name(site.name);
    x->mutable_site()->set_country(site.country);
    x->mutable_site()->set_region(site.region);
    x->set_material("REE concentrate");
    x->set_mass_g(mass_g);
    for (const auto& [element, ppm] : composition) (*x->mutable_composition_ppm())[element] = ppm;
    return Add(b);
  }

  // A dispatch of `mass_g` of `lot` from `from` to `to` and its receipt. Returns {dispatch id,
  // receipt id}.
  std::pair<std::string, std::string> Ship(const std::string& from, const std::string& to,
                                           const std::string& lot, uint64_t mass_g) {
    const std::string dispatch = Add(cairn::testing::DispatchOf(from, to, lot, mass_g));
    const std::string receipt = Add(cairn::testing::ReceiptOf(to, dispatch, lot, mass_g));
    return {dispatch, receipt};
  }

  std::string Transform(const std::string& author, const Place& facility, cairn::v1::Stage stage,
                        const std::vector<Flow>& inputs, const std::vector<Output>& outputs) {
    auto b = Body(author);
    auto* t = b.mutable_transformation();
    t->mutable_facility()->set_id(facility.id);
    t->mutable_facility()->set_name(facility.name);
    t->mutable_facility()->set_country(facility.country);
    t->mutable_facility()->set_region(facility.region);
    t->set_stage(stage);
    for (const Flow& flow : inputs) {
      auto* in = t->add_inputs();
      in->set_lot_id(flow.lot);
      in->set_mass_g(flow.mass_g);
    }
    for (const Output& output : outputs) {
      auto* out = t->add_outputs();
      out->set_lot_id(output.lot);
      out->set_material(output.material);
      out->set_mass_g(output.mass_g);
      for (const auto& [element, ppm] : output.composition) {
        (*out->mutable_composition_ppm())[element] = ppm;
      }
    }
    return Add(b);
  }

  int Lot(const std::string& lot_id) const {
    std::optional<int> lot = graph.FindLot(lot_id);
    EXPECT_TRUE(lot.has_value()) << lot_id;
    return lot.value_or(-1);
  }
  int Event(const std::string& id) const { return graph.FindEvent(id).value_or(-1); }

 private:
  uint64_t count_ = 0;
};

const Composition kPakistanConcentrate = {{"TREO", 600000}, {"Nd", 61700}, {"Pr", 19900}};
const Composition kMtWeldConcentrate = {{"TREO", 400000}, {"Nd", 41000}, {"Pr", 13000}};
const Composition kKachinClay = {{"TREO", 900000}, {"Dy", 30000}, {"Tb", 5000}};
const Composition kLynasNdPrOxide = {{"Nd", 640000}, {"Pr", 210000}};
const Composition kUsmNdPrOxide = {{"Nd", 600000}, {"Pr", 250000}};

double Sum(const std::map<std::string, double>& shares) {
  double total = 0;
  for (const auto& [key, share] : shares) total += share;
  return total;
}

PolicyRule RegionRule(const std::string& country, const std::string& region) {
  PolicyRule rule;
  rule.regions.push_back({country, region});
  rule.reason = "conflict-affected and high-risk area (OECD Annex II)";
  return rule;
}

PolicyRule CountryRule(std::vector<std::string> countries) {
  PolicyRule rule;
  rule.countries = std::move(countries);
  rule.reason = "restricted country";
  return rule;
}

Policy PolicyOf(std::vector<PolicyRule> rules, double max_restricted_share = 0.0) {
  Policy policy;
  policy.name = "test";
  policy.max_restricted_share = max_restricted_share;
  policy.rules = std::move(rules);
  return policy;
}

// The Pakistan consignment: Chagai concentrate shipped to US Strategic Metals, separated into
// NdPr oxide in Missouri.
class PakistanConsignment {
 public:
  GraphBuilder b;
  std::string extraction, dispatch, receipt, separation;

  PakistanConsignment() {
    extraction =
        b.Mine("pk-fwo", "pk-fwo:CHG-2025-0001", kChagai, 20'000'000, kPakistanConcentrate);
    std::tie(dispatch, receipt) = b.Ship("pk-fwo", "us-usm", "pk-fwo:CHG-2025-0001", 20'000'000);
    separation = b.Transform("us-usm", kUsm, cairn::v1::STAGE_SEPARATED,
                             {{"pk-fwo:CHG-2025-0001", 20'000'000}},
                             {{"us-usm:NDPR-2025-0001", "NdPr oxide", 1'500'000, kUsmNdPrOxide}});
  }
};

TEST(AttributionTest, PakistanConsignmentGivesNdPrOxideWhollyFromPakistan) {
  PakistanConsignment world;
  const Attribution a = AttributeOrigin(world.b.graph, world.b.Lot("us-usm:NDPR-2025-0001"));
  EXPECT_EQ(a.lot_id, "us-usm:NDPR-2025-0001");
  EXPECT_FALSE(a.cycle);
  EXPECT_EQ(a.mass.by_country, (std::map<std::string, double>{{"PK", 1.0}}));
  EXPECT_EQ(a.mass.by_region, (std::map<std::string, double>{{"PK/Balochistan", 1.0}}));
  EXPECT_EQ(a.mass.by_site, (std::map<std::string, double>{{"pk-fwo-chagai-01", 1.0}}));
  EXPECT_EQ(a.mass.by_mine, (std::map<std::string, double>{{"pk-fwo", 1.0}}));
  EXPECT_EQ(a.mass.unknown, 0.0);
  EXPECT_EQ(a.mass.by_facility, (std::map<std::string, double>{{"us-usm-missouri-01", 1.0}}));
  EXPECT_EQ(a.mass.by_facility_country, (std::map<std::string, double>{{"US", 1.0}}));
  ASSERT_EQ(a.by_element.size(), 2u);
  EXPECT_DOUBLE_EQ(a.by_element.at("Nd").by_country.at("PK"), 1.0);
  EXPECT_DOUBLE_EQ(a.by_element.at("Pr").by_facility.at("us-usm-missouri-01"), 1.0);
  EXPECT_EQ(a.sites.at("pk-fwo-chagai-01").name, "Chagai rare-earth prospect");
  EXPECT_EQ(a.facilities.at("us-usm-missouri-01").country, "US");

  EXPECT_TRUE(
      ScreenPolicy(PolicyOf({CountryRule({"CN", "RU", "KP", "IR"}), RegionRule("MM", "Kachin")}),
                   world.b.graph, world.b.Lot("us-usm:NDPR-2025-0001"), kMarch2027)
          .empty());
}

TEST(AttributionTest, ExtractionLotIsItsOwnSource) {
  PakistanConsignment world;
  const Attribution a = AttributeOrigin(world.b.graph, world.b.Lot("pk-fwo:CHG-2025-0001"));
  EXPECT_EQ(a.mass.by_country, (std::map<std::string, double>{{"PK", 1.0}}));
  EXPECT_TRUE(a.mass.by_facility.empty());
  EXPECT_EQ(a.by_element.count("TREO"), 0u);  // grades are not elements
}

TEST(AttributionTest, OutOfRangeTargetGivesEmptyResults) {
  PakistanConsignment world;
  EXPECT_EQ(AttributeOrigin(world.b.graph, 99).target, -1);
  EXPECT_TRUE(ScreenPolicy(PolicyOf({CountryRule({"PK"})}), world.b.graph, -1, 0).empty());
  EXPECT_EQ(RestrictedShare(CountryRule({"PK"}), world.b.graph, 99, ""), 0.0);
}

// Australian NdPr oxide from Lynas Malaysia and Pakistani NdPr oxide from US Strategic Metals,
// melted together in Japan: 2 t + 1 t.
class AustraliaPakistanBlend : public PakistanConsignment {
 public:
  AustraliaPakistanBlend() {
    b.Mine("au-lynas", "au-lynas:MW-2025-0042", kMtWeld, 80'000'000, kMtWeldConcentrate);
    b.Ship("au-lynas", "my-lynas", "au-lynas:MW-2025-0042", 80'000'000);
    b.Transform("my-lynas", kGebeng, cairn::v1::STAGE_SEPARATED,
                {{"au-lynas:MW-2025-0042", 80'000'000}},
                {{"my-lynas:NDPR-2025-0007", "NdPr oxide", 4'000'000, kLynasNdPrOxide}});
    b.Ship("my-lynas", "jp-magnets", "my-lynas:NDPR-2025-0007", 4'000'000);
    b.Ship("us-usm", "jp-magnets", "us-usm:NDPR-2025-0001", 1'000'000);
    melt = b.Transform(
        "jp-magnets", kFukui, cairn::v1::STAGE_MELTED,
        {{"my-lynas:NDPR-2025-0007", 2'000'000}, {"us-usm:NDPR-2025-0001", 1'000'000}},
        {{"jp-magnets:NDPR-METAL-1", "NdPr metal", 2'400'000, {{"Nd", 774000}, {"Pr", 226000}}}});
  }
  std::string melt;
};

TEST(AttributionTest, BlendSharesFollowConsumedMass) {
  AustraliaPakistanBlend world;
  const Attribution a = AttributeOrigin(world.b.graph, world.b.Lot("jp-magnets:NDPR-METAL-1"));
  EXPECT_NEAR(a.mass.by_country.at("AU"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.mass.by_country.at("PK"), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.mass.by_region.at("AU/Western Australia"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.mass.by_mine.at("au-lynas"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.mass.by_facility.at("my-lynas-gebeng-01"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.mass.by_facility.at("us-usm-missouri-01"), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.mass.by_facility.at("jp-nmw-fukui-01"), 1.0, 1e-12);
  EXPECT_NEAR(a.mass.by_facility_country.at("MY"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(a.mass.by_facility_country.at("JP"), 1.0, 1e-12);
  EXPECT_EQ(a.facilities.at("my-lynas-gebeng-01").region, "Pahang");
  EXPECT_NEAR(Sum(a.mass.by_country) + a.mass.unknown, 1.0, 1e-12);
}

TEST(AttributionTest, ElementSharesWeighInputCompositions) {
  AustraliaPakistanBlend world;
  const Attribution a = AttributeOrigin(world.b.graph, world.b.Lot("jp-magnets:NDPR-METAL-1"));
  // Nd: 2 t x 64% from Australia, 1 t x 60% from Pakistan; Pr: 2 t x 21% against 1 t x 25%.
  EXPECT_NEAR(a.by_element.at("Nd").by_country.at("AU"), 1.28 / 1.88, 1e-12);
  EXPECT_NEAR(a.by_element.at("Nd").by_country.at("PK"), 0.60 / 1.88, 1e-12);
  EXPECT_NEAR(a.by_element.at("Pr").by_country.at("AU"), 0.42 / 0.67, 1e-12);
  EXPECT_NEAR(a.by_element.at("Pr").by_facility.at("us-usm-missouri-01"), 0.25 / 0.67, 1e-12);
  EXPECT_NE(a.by_element.at("Pr").by_country.at("AU"), a.mass.by_country.at("AU"));
}

// Kachin ionic clay through the trader mm-kia-trading to Ganzhou for separation; its Dy oxide is
// melted with Australian NdPr oxide into alloy, which becomes magnets: two transformations below
// the Dy oxide.
class KachinMagnets : public AustraliaPakistanBlend {
 public:
  std::vector<std::string> kachin_path;

  KachinMagnets() {
    const std::string lot = "mm-kachin-mine:KC-2025-07";
    kachin_path.push_back(b.Mine("mm-kachin-mine", lot, kChipwi, 10'000'000, kKachinClay));
    auto [d1, r1] = b.Ship("mm-kachin-mine", "mm-kia-trading", lot, 10'000'000);
    auto [d2, r2] = b.Ship("mm-kia-trading", "cn-ganzhou", lot, 10'000'000);
    kachin_path.insert(kachin_path.end(), {d1, r1, d2, r2});
    kachin_path.push_back(
        b.Transform("cn-ganzhou", kGanzhou, cairn::v1::STAGE_SEPARATED, {{lot, 10'000'000}},
                    {{"cn-ganzhou:DY2O3-0815", "Dy oxide", 300'000, {{"Dy", 871000}}}}));
    auto [d3, r3] = b.Ship("cn-ganzhou", "jp-magnets", "cn-ganzhou:DY2O3-0815", 300'000);
    kachin_path.insert(kachin_path.end(), {d3, r3});
    kachin_path.push_back(
        b.Transform("jp-magnets", kFukui, cairn::v1::STAGE_MELTED,
                    {{"my-lynas:NDPR-2025-0007", 1'700'000}, {"cn-ganzhou:DY2O3-0815", 300'000}},
                    {{"jp-magnets:ALLOY-0001",
                      "NdFeB alloy",
                      1'500'000,
                      {{"Nd", 560000}, {"Pr", 180000}, {"Dy", 170000}}}}));
    kachin_path.push_back(b.Transform("jp-magnets", kFukui, cairn::v1::STAGE_PRODUCED,
                                      {{"jp-magnets:ALLOY-0001", 1'500'000}},
                                      {{"jp-magnets:MAG-0001",
                                        "sintered NdFeB magnets",
                                        1'400'000,
                                        {{"Nd", 230000}, {"Pr", 70000}, {"Dy", 60000}}}}));
  }
  int magnets() const { return b.Lot("jp-magnets:MAG-0001"); }
};

TEST(AttributionTest, KachinLotTwoHopsUpstreamGivesExactShareAndPath) {
  KachinMagnets world;
  const std::vector<Violation> violations = ScreenPolicy(PolicyOf({RegionRule("MM", "kachin")}),
                                                         world.b.graph, world.magnets(), kJune2026);
  ASSERT_EQ(violations.size(), 1u);
  const Violation& v = violations[0];
  EXPECT_EQ(v.rule, 0);
  EXPECT_EQ(v.element, "");
  EXPECT_NEAR(v.share, 0.15, 1e-12);  // 0.3 t of Dy oxide in 2 t of alloy
  EXPECT_EQ(v.max_share, 0.0);
  EXPECT_EQ(v.source, "extraction mm-kachin-mine:KC-2025-07 at Chipwi (MM/Kachin)");
  EXPECT_EQ(v.source_lot, "mm-kachin-mine:KC-2025-07");
  EXPECT_EQ(v.path_event_ids, world.kachin_path);
  EXPECT_EQ(v.reason, "conflict-affected and high-risk area (OECD Annex II)");

  const Attribution a = AttributeOrigin(world.b.graph, world.magnets());
  EXPECT_NEAR(a.mass.by_region.at("MM/Kachin"), 0.15, 1e-12);
  EXPECT_NEAR(a.mass.by_country.at("AU"), 0.85, 1e-12);
  EXPECT_NEAR(a.by_element.at("Dy").by_country.at("MM"), 1.0, 1e-12);
  EXPECT_NEAR(a.by_element.at("Nd").by_country.at("AU"), 1.0, 1e-12);
  EXPECT_NEAR(a.by_element.at("Dy").by_facility_country.at("CN"), 1.0, 1e-12);
}

TEST(AttributionTest, SanctionedTraderTaintsWhatItHeld) {
  KachinMagnets world;
  PolicyRule rule;
  rule.participants = {"mm-kia-trading"};
  rule.stages = {cairn::v1::STAGE_PRODUCED};  // holding matches whatever the stages
  rule.reason = "sanctioned entity";
  const std::vector<Violation> violations =
      ScreenPolicy(PolicyOf({rule}), world.b.graph, world.magnets(), kJune2026);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NEAR(violations[0].share, 0.15, 1e-12);
  EXPECT_EQ(violations[0].source, "held by mm-kia-trading (lot mm-kachin-mine:KC-2025-07)");
  EXPECT_EQ(violations[0].path_event_ids, world.kachin_path);
}

TEST(AttributionTest, ParticipantRuleMatchesTheAuthorOfACoveredStage) {
  KachinMagnets world;
  PolicyRule rule;
  rule.participants = {"cn-ganzhou"};
  rule.reason = "entity list";
  const std::vector<Violation> violations =
      ScreenPolicy(PolicyOf({rule}), world.b.graph, world.magnets(), kJune2026);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NEAR(violations[0].share, 0.15, 1e-12);
  EXPECT_EQ(violations[0].source, "separated at cn-ganzhou-01 (CN/Jiangxi) by cn-ganzhou");
}

TEST(AttributionTest, ElementRuleReportsEachRestrictedElementFromItsEffectiveDate) {
  KachinMagnets world;
  Result<Policy> policy = ParsePolicy(R"toml(
[[restrict]]
countries = ["CN", "RU", "KP", "IR"]
elements = ["Nd", "Pr", "Sm", "Dy", "Tb"]
effective = "2027-01-01"
reason = "DFARS 252.225-7052"
)toml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_TRUE(ScreenPolicy(*policy, world.b.graph, world.magnets(), kJune2026).empty());

  const std::vector<Violation> violations =
      ScreenPolicy(*policy, world.b.graph, world.magnets(), kMarch2027);
  ASSERT_EQ(violations.size(), 1u);  // the Nd and Pr came from Australia
  EXPECT_EQ(violations[0].element, "Dy");
  EXPECT_NEAR(violations[0].share, 1.0, 1e-12);
  EXPECT_EQ(violations[0].source, "separated at cn-ganzhou-01 (CN/Jiangxi)");
  EXPECT_EQ(violations[0].source_lot, "cn-ganzhou:DY2O3-0815");
  const std::vector<std::string> tail(world.kachin_path.begin() + 5, world.kachin_path.end());
  EXPECT_EQ(violations[0].path_event_ids, tail);
}

TEST(AttributionTest, ElementRuleDoesNotApplyToLotsWithoutItsElements) {
  AustraliaPakistanBlend world;  // NdPr metal: no Dy, Tb
  PolicyRule rule = CountryRule({"AU"});
  rule.elements = {"Dy", "Tb"};
  EXPECT_TRUE(ScreenPolicy(PolicyOf({rule}), world.b.graph, world.b.Lot("jp-magnets:NDPR-METAL-1"),
                           kJune2026)
                  .empty());
}

TEST(AttributionTest, ElementRuleOnLotWithoutCompositionScreensTheWholeMass) {
  GraphBuilder b;
  b.Mine("pk-fwo", "pk-fwo:CHG-1", kChagai, 1'000'000, {});
  b.Transform("us-usm", kUsm, cairn::v1::STAGE_REFINED, {{"pk-fwo:CHG-1", 1'000'000}},
              {{"us-usm:MIX-1", "mixed carbonate", 500'000, {{"TREO", 900000}}}});
  PolicyRule rule = CountryRule({"PK"});
  rule.elements = {"Nd"};
  const std::vector<Violation> violations =
      ScreenPolicy(PolicyOf({rule}), b.graph, b.Lot("us-usm:MIX-1"), kJune2026);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].element, "");
  EXPECT_DOUBLE_EQ(violations[0].share, 1.0);
}

TEST(AttributionTest, ShareAtOrBelowThresholdPasses) {
  KachinMagnets world;
  PolicyRule cn = CountryRule({"CN"});  // separation in Ganzhou: 15% of the magnets
  EXPECT_TRUE(ScreenPolicy(PolicyOf({cn}, 0.5), world.b.graph, world.magnets(), kJune2026).empty());
  cn.max_share = 0.15;
  EXPECT_TRUE(ScreenPolicy(PolicyOf({cn}, 0.0), world.b.graph, world.magnets(), kJune2026).empty());
  cn.max_share = 0.1;
  const std::vector<Violation> violations =
      ScreenPolicy(PolicyOf({cn}, 0.5), world.b.graph, world.magnets(), kJune2026);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_DOUBLE_EQ(violations[0].max_share, 0.1);
  EXPECT_NEAR(violations[0].share, 0.15, 1e-12);
}

TEST(AttributionTest, StageFilterLimitsPlaceRules) {
  KachinMagnets world;
  PolicyRule cn = CountryRule({"CN"});
  cn.stages = {cairn::v1::STAGE_MELTED, cairn::v1::STAGE_PRODUCED};  // DFARS as it reads today
  EXPECT_EQ(RestrictedShare(cn, world.b.graph, world.magnets(), ""), 0.0);
  cn.stages.push_back(cairn::v1::STAGE_SEPARATED);
  EXPECT_NEAR(RestrictedShare(cn, world.b.graph, world.magnets(), ""), 0.15, 1e-12);
  PolicyRule mm = CountryRule({"MM"});
  mm.stages = {cairn::v1::STAGE_REFINED};
  EXPECT_EQ(RestrictedShare(mm, world.b.graph, world.magnets(), ""), 0.0);
}

// Pakistani concentrate split in two; one part blended with Australian concentrate; both parts
// merge again.
TEST(AttributionTest, DiamondSharesSumToOneWithoutDoubleCounting) {
  GraphBuilder b;
  b.Mine("pk-fwo", "pk-fwo:A", kChagai, 10'000'000, kPakistanConcentrate);
  b.Mine("au-lynas", "au-lynas:B", kMtWeld, 10'000'000, kMtWeldConcentrate);
  b.Transform("us-usm", kUsm, cairn::v1::STAGE_REFINED, {{"pk-fwo:A", 10'000'000}},
              {{"us-usm:A1", "mixed carbonate", 4'000'000, {}},
               {"us-usm:A2", "mixed carbonate", 5'000'000, {}}});
  b.Transform("us-usm", kGebeng, cairn::v1::STAGE_REFINED,
              {{"us-usm:A1", 4'000'000}, {"au-lynas:B", 6'000'000}},
              {{"us-usm:C", "mixed carbonate", 9'000'000, {}}});
  b.Transform("us-usm", kUsm, cairn::v1::STAGE_SEPARATED,
              {{"us-usm:A2", 5'000'000}, {"us-usm:C", 9'000'000}},
              {{"us-usm:D", "NdPr oxide", 1'000'000, kUsmNdPrOxide}});
  const int d = b.Lot("us-usm:D");
  const Attribution a = AttributeOrigin(b.graph, d);
  EXPECT_NEAR(a.mass.by_country.at("PK"), 8.6 / 14, 1e-12);
  EXPECT_NEAR(a.mass.by_country.at("AU"), 5.4 / 14, 1e-12);
  EXPECT_NEAR(Sum(a.mass.by_country) + a.mass.unknown, 1.0, 1e-12);
  EXPECT_NEAR(Sum(a.mass.by_site), 1.0, 1e-12);
  EXPECT_NEAR(a.mass.by_facility.at("us-usm-missouri-01"), 1.0, 1e-12);  // twice, counted once
  EXPECT_NEAR(a.mass.by_facility.at("my-lynas-gebeng-01"), 9.0 / 14, 1e-12);

  EXPECT_NEAR(RestrictedShare(CountryRule({"PK"}), b.graph, d, ""), 8.6 / 14, 1e-12);
  PolicyRule both = CountryRule({"PK"});
  both.facilities = {"my-lynas-gebeng-01"};
  EXPECT_NEAR(RestrictedShare(both, b.graph, d, ""), 1.0, 1e-12);
  PolicyRule us = CountryRule({"US"});  // two US transformations on every path
  EXPECT_NEAR(RestrictedShare(us, b.graph, d, ""), 1.0, 1e-12);
}

TEST(AttributionTest, MissingCreatingEventIsUnknownShare) {
  GraphBuilder b;
  b.Mine("pk-fwo", "pk-fwo:CHG-1", kChagai, 10'000'000, kPakistanConcentrate);
  b.Transform("us-usm", kUsm, cairn::v1::STAGE_SEPARATED,
              {{"pk-fwo:CHG-1", 6'000'000}, {"xx-broker:LOT-9", 2'000'000}},
              {{"us-usm:NDPR-1", "NdPr oxide", 500'000, kUsmNdPrOxide}});
  const Attribution a = AttributeOrigin(b.graph, b.Lot("us-usm:NDPR-1"));
  EXPECT_NEAR(a.mass.by_country.at("PK"), 0.75, 1e-12);
  EXPECT_NEAR(a.mass.unknown, 0.25, 1e-12);
  EXPECT_NEAR(a.mass.unknown_lots.at("xx-broker:LOT-9"), 0.25, 1e-12);
  // The unknown lot declares no Nd: the Nd is attributed to the lot that declares it.
  EXPECT_NEAR(a.by_element.at("Nd").by_country.at("PK"), 1.0, 1e-12);
}

TEST(AttributionTest, CycleInForgedEvidenceCountsAsUnknown) {
  GraphBuilder b;
  b.Mine("pk-fwo", "pk-fwo:CHG-1", kChagai, 1'000'000, kPakistanConcentrate);
  b.Transform("us-usm", kUsm, cairn::v1::STAGE_REFINED,
              {{"pk-fwo:CHG-1", 1'000'000}, {"us-usm:B", 1'000'000}},
              {{"us-usm:A", "mixed carbonate", 1'500'000, {}}});
  b.Transform("us-usm", kGebeng, cairn::v1::STAGE_REFINED, {{"us-usm:A", 1'000'000}},
              {{"us-usm:B", "mixed carbonate", 1'000'000, {}}});
  const Attribution a = AttributeOrigin(b.graph, b.Lot("us-usm:A"));
  EXPECT_TRUE(a.cycle);
  EXPECT_NEAR(a.mass.by_country.at("PK"), 0.5, 1e-12);
  EXPECT_NEAR(a.mass.unknown, 0.5, 1e-12);
  EXPECT_NEAR(a.mass.unknown_lots.at("(cycle)"), 0.5, 1e-12);
  EXPECT_NEAR(a.mass.by_facility.at("us-usm-missouri-01"), 1.0, 1e-12);
  EXPECT_NEAR(RestrictedShare(CountryRule({"PK"}), b.graph, b.Lot("us-usm:A"), ""), 0.5, 1e-12);
}

TEST(AttributionTest, MassBalanceFlagsDysprosiumOutputAboveInput) {
  GraphBuilder b;
  b.Mine("mm-kachin-mine", "mm-kachin-mine:KC-1", kChipwi, 10'000'000, kKachinClay);
  // 300 kg of Dy in; 400 kg of 87.1% Dy oxide out is 348.4 kg of Dy.
  const int inflated = b.Event(b.Transform(
      "cn-ganzhou", kGanzhou, cairn::v1::STAGE_SEPARATED, {{"mm-kachin-mine:KC-1", 10'000'000}},
      {{"cn-ganzhou:DY-1", "Dy oxide", 400'000, {{"Dy", 871000}}}}));
  std::vector<std::string> unchecked;
  const std::vector<MassExcess> findings = CheckMassBalance(b.graph, inflated, 0.02, &unchecked);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].event, inflated);
  EXPECT_EQ(findings[0].element, "Dy");
  EXPECT_NEAR(findings[0].input_g, 300'000, 1e-6);
  EXPECT_NEAR(findings[0].output_g, 348'400, 1e-6);
  EXPECT_NEAR(findings[0].excess_g, 48'400, 1e-6);
  EXPECT_TRUE(unchecked.empty());
}

TEST(AttributionTest, MassBalancePassesWithinTolerance) {
  GraphBuilder b;
  b.Mine("mm-kachin-mine", "mm-kachin-mine:KC-1", kChipwi, 10'000'000, kKachinClay);
  // 350 kg of oxide is 304.85 kg of Dy: 1.6% over 300 kg, inside 2%.
  const int e = b.Event(b.Transform("cn-ganzhou", kGanzhou, cairn::v1::STAGE_SEPARATED,
                                    {{"mm-kachin-mine:KC-1", 10'000'000}},
                                    {{"cn-ganzhou:DY-1", "Dy oxide", 350'000, {{"Dy", 871000}}},
                                     {"cn-ganzhou:TB-1", "Tb oxide", 50'000, {{"Tb", 850000}}}}));
  std::vector<std::string> unchecked;
  EXPECT_TRUE(CheckMassBalance(b.graph, e, 0.02, &unchecked).empty());
  EXPECT_TRUE(unchecked.empty());
  EXPECT_EQ(CheckMassBalance(b.graph, e, 0.0, nullptr).size(), 1u);
}

TEST(AttributionTest, MassBalanceCannotCheckElementsOfInputsWithoutElementComposition) {
  GraphBuilder b;
  b.Mine("pk-fwo", "pk-fwo:CHG-1", kChagai, 10'000'000, {{"TREO", 600000}});
  b.Mine("pk-fwo", "pk-fwo:CHG-2", kChagai, 10'000'000, kPakistanConcentrate);
  const int e = b.Event(b.Transform("us-usm", kUsm, cairn::v1::STAGE_SEPARATED,
                                    {{"pk-fwo:CHG-1", 10'000'000}, {"pk-fwo:CHG-2", 10'000'000}},
                                    {{"us-usm:NDPR-1", "NdPr oxide", 5'000'000, kUsmNdPrOxide}}));
  std::vector<std::string> unchecked;
  EXPECT_TRUE(CheckMassBalance(b.graph, e, 0.02, &unchecked).empty());
  EXPECT_EQ(unchecked, (std::vector<std::string>{"Nd", "Pr"}));
}

TEST(AttributionTest, MassBalanceChecksTotalMassWhenNoOutputDeclaresElements) {
  GraphBuilder b;
  b.Mine("pk-fwo", "pk-fwo:CHG-1", kChagai, 10'000'000, kPakistanConcentrate);
  const int e =
      b.Event(b.Transform("us-usm", kUsm, cairn::v1::STAGE_REFINED, {{"pk-fwo:CHG-1", 1'000'000}},
                          {{"us-usm:MIX-1", "mixed carbonate", 2'000'000, {}}}));
  const std::vector<MassExcess> findings = CheckMassBalance(b.graph, e, 0.02, nullptr);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].element, "");
  EXPECT_DOUBLE_EQ(findings[0].excess_g, 1'000'000);
  EXPECT_TRUE(CheckMassBalance(b.graph, b.Event(b.Add(Body("pk-fwo"))), 0.02, nullptr).empty());
}

TEST(AttributionTest, DeepChainOfSixtyTransformations) {
  GraphBuilder b;
  std::vector<std::string> path = {
      b.Mine("pk-fwo", "pk-fwo:CHG-1", kChagai, 60'000'000, kPakistanConcentrate)};
  std::string previous = "pk-fwo:CHG-1";
  uint64_t mass = 60'000'000;
  for (int i = 0; i < 60; ++i) {
    const std::string next = "us-usm:STEP-" + std::to_string(i);
    path.push_back(b.Transform("us-usm", kUsm, cairn::v1::STAGE_REFINED, {{previous, mass}},
                               {{next, "intermediate", mass - 1000, kPakistanConcentrate}}));
    previous = next;
    mass -= 1000;
  }
  const int target = b.Lot(previous);
  const Attribution a = AttributeOrigin(b.graph, target);
  EXPECT_DOUBLE_EQ(a.mass.by_country.at("PK"), 1.0);
  EXPECT_DOUBLE_EQ(a.by_element.at("Nd").by_site.at("pk-fwo-chagai-01"), 1.0);
  const std::vector<Violation> violations =
      ScreenPolicy(PolicyOf({RegionRule("PK", "Balochistan")}), b.graph, target, kJune2026);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_DOUBLE_EQ(violations[0].share, 1.0);
  EXPECT_EQ(violations[0].path_event_ids, path);
}

// A random lineage: `mines` extraction lots in five countries, then transformations consuming one
// to three earlier lots (some lots unknown: consumed but never created) with one or two outputs
// each. Every lot declares Nd and Pr.
GraphBuilder RandomLineage(uint32_t seed, int lots, int mines) {
  std::mt19937 rng(seed);
  const std::vector<Place> sites = {kChagai,
                                    kMtWeld,
                                    kChipwi,
                                    {"cn-bayan-obo-01", "Bayan Obo", "CN", "Inner Mongolia"},
                                    {"us-mp-mountain-pass", "Mountain Pass", "US", "California"}};
  const std::vector<Place> facilities = {
      kUsm, kGebeng, kGanzhou, kFukui, {"vn-hanoi-01", "Hanoi separation", "VN", "Ha Noi"}};
  auto uniform = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  auto composition = [&]() -> Composition {
    return {{"Nd", static_cast<uint32_t>(1000 + uniform(600000))},
            {"Pr", static_cast<uint32_t>(uniform(200000))}};
  };
  GraphBuilder b;
  std::vector<std::string> made;
  for (int i = 0; i < mines; ++i) {
    const std::string lot = "mine-" + std::to_string(i % 7) + ":L" + std::to_string(i);
    b.Mine("mine-" + std::to_string(i % 7), lot, sites[uniform(5)], 1'000'000 + uniform(9'000'000),
           composition());
    made.push_back(lot);
  }
  int next = 0;
  while (static_cast<int>(made.size()) < lots) {
    std::vector<Flow> inputs;
    const int input_count = 1 + uniform(3);
    for (int k = 0; k < input_count; ++k) {
      // Mostly recent lots, so lineages are deep; sometimes a lot nobody created.
      std::string lot = uniform(50) == 0
                            ? "ghost:G" + std::to_string(next) + "-" + std::to_string(k)
                            : made[made.size() - 1 - uniform(std::min<int>(made.size(), 200))];
      bool duplicate = false;
      for (const Flow& f : inputs) duplicate = duplicate || f.lot == lot;
      if (!duplicate) inputs.push_back({lot, 1000 + static_cast<uint64_t>(uniform(1'000'000))});
    }
    std::vector<Output> outputs;
    const int output_count = 1 + uniform(2);
    for (int k = 0; k < output_count; ++k) {
      outputs.push_back({"proc:T" + std::to_string(next) + "-" + std::to_string(k), "mix",
                         1000 + static_cast<uint64_t>(uniform(1'000'000)), composition()});
    }
    b.Transform("proc", facilities[uniform(5)],
                static_cast<cairn::v1::Stage>(cairn::v1::STAGE_REFINED + uniform(4)), inputs,
                outputs);
    for (const Output& o : outputs) made.push_back(o.lot);
    ++next;
  }
  return b;
}

TEST(AttributionTest, TenThousandLotLineageIsFast) {
  GraphBuilder b = RandomLineage(7, 10'000, 500);
  // Magnets made from every lot nobody consumed yet: the whole graph is the lineage.
  std::vector<Flow> unconsumed;
  for (const LineageLot& lot : b.graph.lots()) {
    if (lot.consumed_by.empty()) unconsumed.push_back({lot.lot_id, 1000});
  }
  b.Transform(
      "jp-magnets", kFukui, cairn::v1::STAGE_PRODUCED, unconsumed,
      {{"jp-magnets:MAG-ALL", "sintered NdFeB magnets", 900'000, {{"Nd", 230000}, {"Pr", 70000}}}});
  const int target = b.Lot("jp-magnets:MAG-ALL");
  const auto start = std::chrono::steady_clock::now();
  const Attribution a = AttributeOrigin(b.graph, target);
  const auto attributed = std::chrono::steady_clock::now();
  Result<Policy> policy = ParsePolicy(R"toml(
[[restrict]]
countries = ["CN", "RU", "KP", "IR"]
elements = ["Nd", "Pr", "Dy"]
reason = "DFARS"
[[restrict]]
regions = [{ country = "MM", region = "Kachin" }]
reason = "OECD Annex II"
[[restrict]]
participants = ["mine-3"]
reason = "sanctioned"
)toml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const std::vector<Violation> violations = ScreenPolicy(*policy, b.graph, target, kJune2026);
  const auto screened = std::chrono::steady_clock::now();
  const size_t lineage = b.graph.Upstream(target).size();
  using Ms = std::chrono::duration<double, std::milli>;
  std::printf(
      "[ timing   ] %zu-lot lineage: AttributeOrigin %.1f ms, ScreenPolicy (%zu "
      "violations) %.1f ms\n",
      lineage, Ms(attributed - start).count(), violations.size(),
      Ms(screened - attributed).count());
  EXPECT_GT(lineage, 10'000u);
  EXPECT_NEAR(Sum(a.mass.by_country) + a.mass.unknown, 1.0, 1e-9);
  EXPECT_NEAR(Sum(a.by_element.at("Nd").by_country) + a.by_element.at("Nd").unknown, 1.0, 1e-9);
  for (const Violation& v : violations) {
    EXPECT_FALSE(v.path_event_ids.empty());
    EXPECT_EQ(v.path_event_ids.back(), b.graph.event(b.graph.lot(target).created_by).id_hex);
  }
}

// Property test over random lineages of up to 1,000 lots with fixed seeds.
TEST(AttributionTest, RandomLineagesHaveSharesSummingToOneAndMonotoneTaint) {
  for (const uint32_t seed : {1u, 2u, 3u, 42u, 2025u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 sizes(seed);
    const int lots = seed == 2025u ? 1000 : 50 + std::uniform_int_distribution<int>(0, 950)(sizes);
    const GraphBuilder b = RandomLineage(seed, lots, 5 + lots / 20);
    const PolicyRule cn = CountryRule({"CN"});
    const PolicyRule cn_mm = CountryRule({"CN", "MM"});
    PolicyRule cn_mm_facility = cn_mm;
    cn_mm_facility.facilities = {"vn-hanoi-01"};
    for (int lot = 0; lot < static_cast<int>(b.graph.lots().size()); ++lot) {
      const Attribution a = AttributeOrigin(b.graph, lot);
      ASSERT_NEAR(Sum(a.mass.by_country) + a.mass.unknown, 1.0, 1e-9) << a.lot_id;
      ASSERT_NEAR(Sum(a.mass.by_mine) + a.mass.unknown, 1.0, 1e-9) << a.lot_id;
      for (const auto& [element, shares] : a.by_element) {
        ASSERT_NEAR(Sum(shares.by_country) + shares.unknown, 1.0, 1e-9) << a.lot_id << element;
      }
      for (const auto& [facility, share] : a.mass.by_facility) {
        ASSERT_GE(share, 0.0);
        ASSERT_LE(share, 1.0);
      }
      for (const std::string element : {"", "Nd"}) {
        const double s1 = RestrictedShare(cn, b.graph, lot, element);
        const double s2 = RestrictedShare(cn_mm, b.graph, lot, element);
        const double s3 = RestrictedShare(cn_mm_facility, b.graph, lot, element);
        ASSERT_GE(s1, 0.0);
        ASSERT_LE(s3, 1.0);
        ASSERT_GE(s2, s1 - 1e-12) << a.lot_id;
        ASSERT_GE(s3, s2 - 1e-12) << a.lot_id;
        if (element.empty()) {
          // Every extraction in a covered country is a matching touch point.
          ASSERT_GE(s2 + 1e-9, a.mass.by_country.count("CN") ? a.mass.by_country.at("CN") : 0.0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace cairn::ledger
