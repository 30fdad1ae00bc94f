#include "ledger/policy.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::ledger {
namespace {

// DESIGN.md, "Policy file", verbatim.
constexpr const char* kDesignExample = R"toml(name = "defence magnets 2027"
mass_tolerance = 0.02            # per-element mass balance slack
max_restricted_share = 0.0       # any restricted origin fails
[[restrict]]
countries = ["CN", "RU", "KP", "IR"]
stages = ["mined", "refined", "separated", "melted", "produced"]
elements = ["Nd", "Pr", "Sm", "Dy", "Tb"]
effective = "2027-01-01"
max_share = 0.0                  # per-rule override of max_restricted_share
reason = "DFARS 252.225-7052: mined, refined, separated, melted or produced"
[[restrict]]
regions = [{ country = "MM", region = "Kachin" }]
reason = "conflict-affected and high-risk area (OECD Annex II)"
[[restrict]]
participants = ["mm-kia-trading"]
reason = "sanctioned entity"
)toml";

constexpr int64_t kSecond = 1000000;
constexpr int64_t k2027 = 1798761600LL * kSecond;  // 2027-01-01T00:00:00Z

std::string ErrorOf(const std::string& text) {
  Result<Policy> policy = ParsePolicy(text);
  EXPECT_FALSE(policy.ok()) << text;
  if (policy.ok()) return "";
  EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument);
  return policy.status().message();
}

// A valid one-rule policy with `line` added to the rule.
std::string RuleWith(const std::string& line) {
  return "[[restrict]]\ncountries = [\"CN\"]\nreason = \"test\"\n" + line + "\n";
}

TEST(PolicyTest, ParsesDesignExampleVerbatim) {
  Result<Policy> parsed = ParsePolicy(kDesignExample);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Policy& policy = *parsed;
  EXPECT_EQ(policy.name, "defence magnets 2027");
  EXPECT_DOUBLE_EQ(policy.mass_tolerance, 0.02);
  EXPECT_DOUBLE_EQ(policy.max_restricted_share, 0.0);
  ASSERT_EQ(policy.rules.size(), 3u);

  const PolicyRule& dfars = policy.rules[0];
  EXPECT_EQ(dfars.countries, (std::vector<std::string>{"CN", "RU", "KP", "IR"}));
  EXPECT_EQ(dfars.stages,
            (std::vector<cairn::v1::Stage>{cairn::v1::STAGE_MINED, cairn::v1::STAGE_REFINED,
                                           cairn::v1::STAGE_SEPARATED, cairn::v1::STAGE_MELTED,
                                           cairn::v1::STAGE_PRODUCED}));
  EXPECT_EQ(dfars.elements, (std::vector<std::string>{"Nd", "Pr", "Sm", "Dy", "Tb"}));
  ASSERT_TRUE(dfars.effective_us.has_value());
  EXPECT_EQ(*dfars.effective_us, k2027);
  ASSERT_TRUE(dfars.max_share.has_value());
  EXPECT_DOUBLE_EQ(*dfars.max_share, 0.0);
  EXPECT_EQ(dfars.reason, "DFARS 252.225-7052: mined, refined, separated, melted or produced");

  const PolicyRule& kachin = policy.rules[1];
  ASSERT_EQ(kachin.regions.size(), 1u);
  EXPECT_EQ(kachin.regions[0].country, "MM");
  EXPECT_EQ(kachin.regions[0].region, "Kachin");
  EXPECT_TRUE(kachin.stages.empty());
  EXPECT_TRUE(kachin.elements.empty());
  EXPECT_FALSE(kachin.effective_us.has_value());
  EXPECT_FALSE(kachin.max_share.has_value());
  EXPECT_EQ(kachin.reason, "conflict-affected and high-risk area (OECD Annex II)");

  const PolicyRule& entity = policy.rules[2];
  EXPECT_EQ(entity.participants, (std::vector<std::string>{"mm-kia-trading"}));
  EXPECT_EQ(entity.reason, "sanctioned entity");
}

TEST(PolicyTest, DefaultsWhenTopLevelKeysAreAbsent) {
  Result<Policy> parsed = ParsePolicy(RuleWith(""));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->name, "");
  EXPECT_DOUBLE_EQ(parsed->mass_tolerance, 0.02);
  EXPECT_DOUBLE_EQ(parsed->max_restricted_share, 0.0);
  EXPECT_EQ(parsed->rules.size(), 1u);
}

TEST(PolicyTest, AcceptsAPolicyWithoutRules) {
  Result<Policy> parsed = ParsePolicy("name = \"mass balance only\"\nmass_tolerance = 0.05\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->rules.empty());
  EXPECT_DOUBLE_EQ(parsed->mass_tolerance, 0.05);
}

TEST(PolicyTest, RefusesUnknownStageNamingTheKey) {
  const std::string text = RuleWith("") + "[[restrict]]\nregions = [{ country = \"MM\", " +
                           "region = \"Kachin\" }]\nstages = [\"mining\"]\nreason = \"x\"\n";
  EXPECT_EQ(ErrorOf(text),
            "restrict[1].stages[0]: got \"mining\", want one of mined, refined, separated, "
            "melted, produced, blended");
}

TEST(PolicyTest, RefusesUnknownTopLevelKey) {
  EXPECT_EQ(ErrorOf("name = \"x\"\nmax_share = 0.5\n"),
            "max_share: unknown key (known: name, mass_tolerance, max_restricted_share, "
            "max_transit_loss, restrict)");
}

TEST(PolicyTest, RefusesUnknownRuleKey) {
  EXPECT_EQ(ErrorOf(RuleWith("country = [\"RU\"]")),
            "restrict[0].country: unknown key (known: countries, regions, participants, "
            "facilities, stages, elements, effective, max_share, reason)");
}

TEST(PolicyTest, RefusesCountryThatIsNotIsoAlpha2) {
  EXPECT_EQ(ErrorOf("[[restrict]]\ncountries = [\"CN\", \"cn\"]\nreason = \"x\"\n"),
            "restrict[0].countries[1]: got \"cn\", want an ISO 3166-1 alpha-2 country code in "
            "upper case");
  EXPECT_EQ(ErrorOf("[[restrict]]\ncountries = [\"XX\"]\nreason = \"x\"\n"),
            "restrict[0].countries[0]: got \"XX\", want an ISO 3166-1 alpha-2 country code in "
            "upper case");
  EXPECT_EQ(ErrorOf("[[restrict]]\ncountries = \"CN\"\nreason = \"x\"\n"),
            "restrict[0].countries: got a string, want an array of ISO 3166-1 alpha-2 country "
            "codes");
}

TEST(PolicyTest, RefusesGradesAndMiscasedSymbolsAsElements) {
  EXPECT_EQ(ErrorOf(RuleWith("elements = [\"Nd\", \"TREO\"]")),
            "restrict[0].elements[1]: got \"TREO\", want a chemical element symbol (\"Nd\")");
  EXPECT_EQ(ErrorOf(RuleWith("elements = [\"nd\"]")),
            "restrict[0].elements[0]: got \"nd\", want a chemical element symbol (\"Nd\")");
}

TEST(PolicyTest, RefusesSharesOutsideTheUnitInterval) {
  EXPECT_EQ(ErrorOf("max_restricted_share = 1.5\n"),
            "max_restricted_share: got 1.5, want a number in [0, 1]");
  EXPECT_EQ(ErrorOf("mass_tolerance = -0.01\n"),
            "mass_tolerance: got -0.01, want a number in [0, 1]");
  EXPECT_EQ(ErrorOf("mass_tolerance = nan\n"), "mass_tolerance: got nan, want a number in [0, 1]");
  EXPECT_EQ(ErrorOf(RuleWith("max_share = inf")),
            "restrict[0].max_share: got inf, want a number in [0, 1]");
  EXPECT_EQ(ErrorOf(RuleWith("max_share = \"0.5\"")),
            "restrict[0].max_share: got a string, want a number in [0, 1]");
}

TEST(PolicyTest, AcceptsIntegerShares) {
  Result<Policy> parsed = ParsePolicy("max_restricted_share = 1\n" + RuleWith("max_share = 0"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_DOUBLE_EQ(parsed->max_restricted_share, 1.0);
  EXPECT_DOUBLE_EQ(*parsed->rules[0].max_share, 0.0);
  EXPECT_DOUBLE_EQ(MaxShareOf(*parsed, parsed->rules[0]), 0.0);
}

TEST(PolicyTest, RuleWithoutMaxShareUsesThePolicyThreshold) {
  Result<Policy> parsed = ParsePolicy("max_restricted_share = 0.5\n" + RuleWith(""));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_DOUBLE_EQ(MaxShareOf(*parsed, parsed->rules[0]), 0.5);
}

TEST(PolicyTest, RefusesRuleThatRestrictsNothing) {
  EXPECT_EQ(ErrorOf("[[restrict]]\nstages = [\"mined\"]\nreason = \"x\"\n"),
            "restrict[0]: restricts nothing, want at least one of countries, regions, "
            "participants, facilities");
}

TEST(PolicyTest, RefusesRuleWithoutReason) {
  EXPECT_EQ(ErrorOf("[[restrict]]\ncountries = [\"RU\"]\n"),
            "restrict[0].reason: missing, want why the rule exists");
  EXPECT_EQ(ErrorOf("[[restrict]]\ncountries = [\"RU\"]\nreason = \"\"\n"),
            "restrict[0].reason: missing, want why the rule exists");
}

TEST(PolicyTest, RefusesEmptyListsInsteadOfGuessingTheirMeaning) {
  EXPECT_EQ(ErrorOf(RuleWith("stages = []")),
            "restrict[0].stages: got an empty array, want at least one of stages (or omit the "
            "key)");
}

TEST(PolicyTest, RefusesImpossibleDatesAndAcceptsLeapDays) {
  EXPECT_EQ(ErrorOf(RuleWith("effective = \"2027-02-29\"")),
            "restrict[0].effective: got \"2027-02-29\", want a date YYYY-MM-DD");
  EXPECT_EQ(ErrorOf(RuleWith("effective = \"1 Jan 2027\"")),
            "restrict[0].effective: got \"1 Jan 2027\", want a date YYYY-MM-DD");
  EXPECT_EQ(ErrorOf(RuleWith("effective = 2027")),
            "restrict[0].effective: got an integer, want a date YYYY-MM-DD");
  Result<Policy> leap = ParsePolicy(RuleWith("effective = \"2028-02-29\""));
  ASSERT_TRUE(leap.ok()) << leap.status().ToString();
  EXPECT_EQ(*leap->rules[0].effective_us, 1835395200LL * kSecond);
}

TEST(PolicyTest, AcceptsBareTomlDates) {
  Result<Policy> parsed = ParsePolicy(RuleWith("effective = 2027-01-01"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed->rules[0].effective_us, k2027);
}

TEST(PolicyTest, RefusesIncompleteOrUnknownRegionFields) {
  EXPECT_EQ(ErrorOf("[[restrict]]\nregions = [{ country = \"MM\" }]\nreason = \"x\"\n"),
            "restrict[0].regions[0].region: missing, want a region name");
  EXPECT_EQ(ErrorOf("[[restrict]]\nregions = [{ country = \"MM\", state = \"Kachin\" }]\n"
                    "reason = \"x\"\n"),
            "restrict[0].regions[0].state: unknown key (known: country, region)");
  EXPECT_EQ(ErrorOf("[[restrict]]\nregions = [\"MM/Kachin\"]\nreason = \"x\"\n"),
            "restrict[0].regions[0]: got a string, want a table { country = \"MM\", region = "
            "\"Kachin\" }");
}

TEST(PolicyTest, RefusesMalformedParticipantAndFacilityIds) {
  EXPECT_EQ(ErrorOf("[[restrict]]\nparticipants = [\"MM KIA\"]\nreason = \"x\"\n"),
            "restrict[0].participants[0]: got \"MM KIA\", want a participant id [a-z0-9-]{2,40}");
  EXPECT_EQ(ErrorOf("[[restrict]]\nfacilities = [\"cn ganzhou\"]\nreason = \"x\"\n"),
            "restrict[0].facilities[0]: got \"cn ganzhou\", want a facility id of 1-120 "
            "printable characters without spaces");
}

TEST(PolicyTest, ReportsTomlSyntaxErrorsWithLineAndColumn) {
  const std::string message = ErrorOf("name = \"x\"\n[[restrict]\n");
  EXPECT_EQ(message.rfind("line 2, column ", 0), 0u) << message;
}

TEST(PolicyTest, RuleIsInForceFromItsEffectiveDate) {
  PolicyRule rule;
  EXPECT_TRUE(RuleInForce(rule, 0));
  rule.effective_us = k2027;
  EXPECT_FALSE(RuleInForce(rule, k2027 - 1));
  EXPECT_TRUE(RuleInForce(rule, k2027));
}

TEST(PolicyTest, StageWordsRoundTrip) {
  for (auto stage : {cairn::v1::STAGE_MINED, cairn::v1::STAGE_REFINED, cairn::v1::STAGE_SEPARATED,
                     cairn::v1::STAGE_MELTED, cairn::v1::STAGE_PRODUCED}) {
    EXPECT_EQ(StageFromWord(StageWord(stage)), stage);
  }
  EXPECT_FALSE(StageFromWord("Mined").has_value());
  EXPECT_STREQ(StageWord(cairn::v1::STAGE_UNSPECIFIED), "unspecified");
}

TEST(PolicyTest, ParsesIsoDatesAsUtcMidnight) {
  EXPECT_EQ(ParseIsoDateUs("1970-01-01"), 0);
  EXPECT_EQ(ParseIsoDateUs("2027-01-01"), k2027);
  EXPECT_FALSE(ParseIsoDateUs("2027-13-01").has_value());
  EXPECT_FALSE(ParseIsoDateUs("2027-1-01").has_value());
  EXPECT_FALSE(ParseIsoDateUs("2027-01-01T00:00:00Z").has_value());
}

}  // namespace
}  // namespace cairn::ledger
