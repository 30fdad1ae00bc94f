// Lineage scenarios end to end: events submitted through `cairn submit` to a real cairnd, then
// `cairn trace`, `cairn export` and `cairn verify --lot / --bundle` with a real policy file — the
// bundle verified offline after the node has stopped.
#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "cairn/v1/bundle.pb.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "tests/integration/harness.h"

namespace cairn::itest {
namespace {

// DESIGN.md's example policy, with the DFARS rule in force from 2027.
constexpr char kPolicy[] = R"toml(name = "defence magnets 2027"
mass_tolerance = 0.02
max_restricted_share = 0.0
[[restrict]]
countries = ["CN", "RU", "KP", "IR"]
stages = ["mined", "refined", "separated", "melted", "produced"]
elements = ["Nd", "Pr", "Sm", "Dy", "Tb"]
effective = "2027-01-01"
max_share = 0.0
reason = "DFARS 252.225-7052: mined, refined, separated, melted or produced"
[[restrict]]
regions = [{ country = "MM", region = "Kachin" }]
reason = "conflict-affected and high-risk area (OECD Annex II)"
[[restrict]]
participants = ["mm-kia-trading"]
reason = "sanctioned entity"
)toml";

class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = std::make_unique<World>(dir_);
    world_->StartNode({"pk-fwo", "us-usm", "jp-magnets", "au-assay-lab", "au-lynas", "my-lynas",
                       "mm-chipwi", "mm-kia-trading", "ch-audit"});
    WriteFile(dir_ / "policy.toml", kPolicy);
  }

  const std::string& node() { return world_->node().address(); }

  // Submits one event body (protobuf JSON; author and occurred_at filled by the CLI) as `who`.
  RunResult TrySubmit(const std::string& who, const std::string& json) {
    const std::string file = dir_ / ("event-" + std::to_string(++events_) + ".json");
    WriteFile(file, json);
    return Cairn({"submit", "--node", node(), "--key", world_->key_path(who), "--json", file});
  }
  std::string Submit(const std::string& who, const std::string& json) {
    const RunResult r = TrySubmit(who, json);
    EXPECT_EQ(r.exit_code, 0) << json << "\n" << r.err;
    if (r.exit_code != 0) return "";
    return nlohmann::json::parse(r.out)[0]["event_id"];
  }

  std::string Extract(const std::string& who, const std::string& lot, const std::string& site,
                      const std::string& country, const std::string& region, uint64_t mass_g,
                      const std::string& composition) {
    return Submit(
        who, R"({"extraction": {"lot_id": ")" + lot + R"(", "site": {"id": ")" + site +
                 R"(", "name": ")" + site + R"(", "country": ")" + country + R"(", "region": ")" +
                 region + R"("}, "material": "REE concentrate", "mass_g": ")" +
                 std::to_string(mass_g) + R"(", "composition_ppm": )" + composition + "}}");
  }

  std::string Dispatch(const std::string& from, const std::string& to, const std::string& lot,
                       uint64_t mass_g) {
    return Submit(from, R"({"dispatch": {"shipment_id": "SHP-)" + std::to_string(events_) +
                            R"(", "recipient": ")" + to + R"(", "lots": [{"lot_id": ")" + lot +
                            R"(", "mass_g": ")" + std::to_string(mass_g) +
                            R"("}], "hs_code": "2846.90"}})");
  }

  std::string Receive(const std::string& by, const std::string& dispatch, const std::string& lot,
                      uint64_t mass_g) {
    return Submit(by, R"({"receipt": {"dispatch_event_id": ")" + dispatch +
                          R"(", "lots": [{"lot_id": ")" + lot + R"(", "mass_g": ")" +
                          std::to_string(mass_g) + R"("}]}})");
  }

  void Ship(const std::string& from, const std::string& to, const std::string& lot,
            uint64_t mass_g) {
    Receive(to, Dispatch(from, to, lot, mass_g), lot, mass_g);
  }

  // inputs: [{"lot_id": ..., "mass_g": ...}] JSON; outputs likewise with material/composition.
  std::string Transform(const std::string& who, const std::string& facility,
                        const std::string& country, const std::string& stage,
                        const std::string& inputs, const std::string& outputs) {
    return Submit(who, R"({"transformation": {"facility": {"id": ")" + facility +
                           R"(", "name": ")" + facility + R"(", "country": ")" + country +
                           R"("}, "stage": "STAGE_)" + stage + R"(", "inputs": )" + inputs +
                           R"(, "outputs": )" + outputs + "}}");
  }

  // The Pakistan consignment: 25 t of concentrate from Chagai to US Strategic Metals, separated
  // in Missouri into 2 t of NdPr oxide and 5 t of La-Ce carbonate.
  std::string PakistanConsignment() {
    Extract("pk-fwo", "pk-fwo:CHG-2025-001", "pk-fwo-chagai-01", "PK", "Balochistan", 25'000'000,
            R"({"Ce": 70000, "La": 40000, "Nd": 61700, "Pr": 19900})");
    const std::string d = Dispatch("pk-fwo", "us-usm", "pk-fwo:CHG-2025-001", 25'000'000);
    Receive("us-usm", d, "pk-fwo:CHG-2025-001", 24'985'000);  // 15 kg lost in transit
    return Transform(
        "us-usm", "us-usm-missouri-01", "US", "SEPARATED",
        R"([{"lot_id": "pk-fwo:CHG-2025-001", "mass_g": "24985000"}])",
        R"([{"lot_id": "us-usm:NDPR-2025-001", "material": "NdPr oxide", "mass_g": "2000000",
             "composition_ppm": {"Nd": 600000, "Pr": 190000}},
            {"lot_id": "us-usm:LACE-2025-001", "material": "La-Ce carbonate", "mass_g": "5000000",
             "composition_ppm": {"La": 150000, "Ce": 300000}}])");
  }

  RunResult Verify(const std::vector<std::string>& how, const std::string& registry = "") {
    std::vector<std::string> args = {
        "verify",    "--registry",         registry.empty() ? world_->registry_path() : registry,
        "--policy",  dir_ / "policy.toml", "--as-of",
        "2027-03-01"};
    args.insert(args.end(), how.begin(), how.end());
    return Cairn(args);
  }

  nlohmann::json VerifyJson(const std::string& lot, int want_exit) {
    const RunResult r = Verify({"--node", node(), "--lot", lot, "--json"});
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    return nlohmann::json::parse(r.out);
  }

  // 5 t of Kachin ore through a sanctioned trader into a Malaysian refinery's carbonate, blended
  // with Australian ore; the carbonate and Pakistani concentrate separated into NdPr oxide
  // us-usm:NDPR-2. Returns the Kachin extraction's and the separation's event ids.
  std::pair<std::string, std::string> KachinBlend() {
    const std::string kachin =
        Extract("mm-chipwi", "mm-chipwi:KC-2025-07", "mm-chipwi-pangwa", "MM", "Kachin", 5'000'000,
                R"({"Nd": 150000, "Pr": 40000, "Dy": 30000})");
    Ship("mm-chipwi", "mm-kia-trading", "mm-chipwi:KC-2025-07", 5'000'000);
    Ship("mm-kia-trading", "my-lynas", "mm-chipwi:KC-2025-07", 5'000'000);
    Extract("au-lynas", "au-lynas:MTW-2", "au-mt-weld", "AU", "Western Australia", 30'000'000,
            R"({"Nd": 70000, "Pr": 20000})");
    Ship("au-lynas", "my-lynas", "au-lynas:MTW-2", 30'000'000);
    Transform("my-lynas", "my-lynas-gebeng", "MY", "REFINED",
              R"([{"lot_id": "au-lynas:MTW-2", "mass_g": "30000000"},
                  {"lot_id": "mm-chipwi:KC-2025-07", "mass_g": "5000000"}])",
              R"([{"lot_id": "my-lynas:MREC-2", "material": "mixed RE carbonate",
                   "mass_g": "10000000", "composition_ppm": {"Nd": 250000, "Pr": 70000}}])");
    Ship("my-lynas", "us-usm", "my-lynas:MREC-2", 10'000'000);
    Extract("pk-fwo", "pk-fwo:CHG-2", "pk-fwo-chagai-01", "PK", "Balochistan", 10'000'000,
            R"({"Nd": 61700, "Pr": 19900})");
    Ship("pk-fwo", "us-usm", "pk-fwo:CHG-2", 10'000'000);
    const std::string separation =
        Transform("us-usm", "us-usm-missouri-01", "US", "SEPARATED",
                  R"([{"lot_id": "my-lynas:MREC-2", "mass_g": "10000000"},
                      {"lot_id": "pk-fwo:CHG-2", "mass_g": "10000000"}])",
                  R"([{"lot_id": "us-usm:NDPR-2", "material": "NdPr oxide", "mass_g": "3000000",
                       "composition_ppm": {"Nd": 600000, "Pr": 190000}}])");

    return {kachin, separation};
  }

  // `cairn report` of `lot` against the policy as of 2027-03-01.
  RunResult Report(const std::vector<std::string>& how) {
    std::vector<std::string> args = {"report",    "--registry",         world_->registry_path(),
                                     "--policy",  dir_ / "policy.toml", "--as-of",
                                     "2027-03-01"};
    args.insert(args.end(), how.begin(), how.end());
    return Cairn(args);
  }

  // `lot` reported in every format and exported as EPCIS, each exiting `want_exit` as verify does
  // (with `registry`, else the world's): the JSON names the verdict, the Markdown and HTML carry
  // it (the HTML with its graph and no script), the PDF has pages, every CSV table parses back
  // with Python's csv module with as many cells a row as its header, and GS1's validator accepts
  // the EPCIS document, which is not written at all when the lineage fails integrity checks.
  void ReportEveryWay(const std::string& lot, int want_exit, const std::string& registry = "") {
    ReportEveryWayFrom({"--lot", lot}, {lot}, lot, want_exit, registry);
  }
  // As ReportEveryWay, offline, from the bundle file `bundle` of `lot`.
  void ReportBundleEveryWay(const std::string& bundle, const std::string& lot, int want_exit) {
    ReportEveryWayFrom({"--bundle", bundle}, {"--bundle", bundle}, lot, want_exit, "");
  }
  // `report_source` and `export_source` say where report and export --epcis take the lineage from.
  void ReportEveryWayFrom(const std::vector<std::string>& report_source,
                          const std::vector<std::string>& export_source, const std::string& lot,
                          int want_exit, const std::string& registry) {
    SCOPED_TRACE("ReportEveryWay(" + report_source.back() + ")");
    const std::vector<std::string> base = {
        "--registry", registry.empty() ? world_->registry_path() : registry,
        "--policy",   dir_ / "policy.toml",
        "--as-of",    "2027-03-01",
        "--node",     node()};
    const std::string stem = dir_ / ("every-" + std::to_string(++reports_));
    const auto run = [&](const std::string& command, std::vector<std::string> args) {
      args.insert(args.begin(), base.begin(), base.end());
      args.insert(args.begin(), command);
      return Cairn(args);
    };
    for (const std::string format : {"md", "json", "html", "pdf", "csv"}) {
      const std::string out = stem + "." + format;
      std::vector<std::string> args = report_source;
      args.insert(args.end(), {"--format", format, "-o", out});
      const RunResult r = run("report", args);
      ASSERT_EQ(r.exit_code, want_exit) << format << ": " << r.out << r.err;
      ASSERT_TRUE(std::filesystem::exists(out)) << out;
    }
    const nlohmann::json json = nlohmann::json::parse(ReadFile(stem + ".json"));
    EXPECT_EQ(json["verdict"]["exit_code"], want_exit);
    EXPECT_EQ(json["subject"]["lot_id"], lot);
    const std::string verdict = json["verdict"]["verdict"];
    EXPECT_EQ(
        ReadFile(stem + ".md").rfind("# Provenance report: lot " + lot + "\n\n**" + verdict, 0),
        0u);
    const std::string html = ReadFile(stem + ".html");
    EXPECT_NE(html.find("class=\"verdict " + verdict + "\""), std::string::npos);
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    const RunResult info = RunProcess({"/usr/bin/pdfinfo", stem + ".pdf"});
    EXPECT_EQ(info.exit_code, 0) << info.err;
    EXPECT_NE(info.out.find("Pages:"), std::string::npos) << info.out;
    const nlohmann::json csv = ParseCsvDirectory(stem + ".csv");
    std::set<std::string> tables;
    for (const auto& [name, rows] : csv.items()) {
      tables.insert(name);
      ASSERT_FALSE(rows.empty()) << name;
      for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size()) << name << ": " << row;
    }
    EXPECT_EQ(tables,
              (std::set<std::string>{"audits", "checkpoints", "custody", "elements", "facilities",
                                     "findings", "origin", "sites", "summary", "transit_losses"}));
    EXPECT_EQ(csv["summary"][1], (nlohmann::json{"verdict", verdict}));
    const std::string epcis = stem + ".jsonld";
    std::vector<std::string> args = export_source;
    args.insert(args.end(), {"--epcis", "-o", epcis});
    const RunResult exported = run("export", args);
    ASSERT_EQ(exported.exit_code, want_exit) << exported.out << exported.err;
    if (want_exit == 1) {
      EXPECT_FALSE(std::filesystem::exists(epcis));
      return;
    }
    const RunResult valid = ValidateEpcis({epcis});
    EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  }

  TempDir dir_;
  std::unique_ptr<World> world_;
  int events_ = 0;
  int reports_ = 0;
};

TEST_F(LineageTest, PakistanConsignmentTracesCleanToNdPrOxideAndVerifiesOffline) {
  const std::string separation = PakistanConsignment();
  // The Perth lab assays the oxide: evidence beside the declared composition.
  Submit("au-assay-lab", R"({"attestation": {"lot_id": "us-usm:NDPR-2025-001",
      "kind": "ATTESTATION_KIND_ASSAY", "composition_ppm": {"Nd": 601000, "Pr": 189500},
      "result": "conforms"}})");

  RunResult r = Cairn({"trace", "us-usm:NDPR-2025-001", "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pk-fwo:CHG-2025-001"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mined at pk-fwo-chagai-01 (PK, Balochistan)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("separated at us-usm-missouri-01 (US)"), std::string::npos) << r.out;
  r = Cairn({"trace", "pk-fwo:CHG-2025-001", "--forward", "--json", "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["lots"].size(), 3u) << r.out;  // ore, NdPr, La-Ce

  r = Verify({"--node", node(), "--lot", "us-usm:NDPR-2025-001"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("VERIFIED: lot us-usm:NDPR-2025-001", 0), 0u) << r.out;
  const nlohmann::json j = VerifyJson("us-usm:NDPR-2025-001", 0);
  ReportEveryWay("us-usm:NDPR-2025-001", 0);
  // Forward from the concentrate: the products it went into.
  r = Report({"--node", node(), "--lot", "pk-fwo:CHG-2025-001", "--forward", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["subject"]["direction"], "forward");
  EXPECT_NE(r.out.find("us-usm:LACE-2025-001"), std::string::npos);
  r = Report({"--node", node(), "--lot", "pk-fwo:CHG-2025-001", "--forward", "--format", "html",
              "-o", dir_ / "forward.html"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_DOUBLE_EQ(j["attribution"]["mass"]["by_country"]["PK"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["attribution"]["mass"]["by_facility"]["us-usm-missouri-01"].get<double>(),
                   1.0);
  EXPECT_EQ(j["entries_checked"], 5);  // extraction, dispatch, receipt, separation, assay

  // Export, stop the node, verify offline: binary and JSON bundles.
  ASSERT_EQ(Cairn({"export", "us-usm:NDPR-2025-001", "-o", dir_ / "ndpr.bundle", "--node", node()})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"export", "us-usm:NDPR-2025-001", "-o", dir_ / "ndpr.json", "--format", "json",
                   "--node", node()})
                .exit_code,
            0);
  EXPECT_EQ(world_->node().Terminate(), 0);
  r = Verify({"--bundle", dir_ / "ndpr.bundle"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Verify({"--bundle", dir_ / "ndpr.json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  cairn::v1::EvidenceBundle bundle;
  ASSERT_TRUE(bundle.ParseFromString(ReadFile(dir_ / "ndpr.bundle")));
  ASSERT_EQ(bundle.entries_size(), 5);
  // One byte flipped inside the separation's entry: exit 1.
  {
    cairn::v1::EvidenceBundle flipped = bundle;
    std::string* entry = flipped.mutable_entries(3)->mutable_entry();
    (*entry)[entry->size() / 2] ^= 0x20;
    WriteFile(dir_ / "flipped.bundle", flipped.SerializeAsString());
    r = Verify({"--bundle", dir_ / "flipped.bundle"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.out.rfind("FAILED", 0), 0u) << r.out;
    ReportBundleEveryWay(dir_ / "flipped.bundle", "us-usm:NDPR-2025-001", 1);
  }
  // The extraction left out: lineage incomplete, exit 4.
  {
    cairn::v1::EvidenceBundle missing = bundle;
    missing.mutable_entries()->DeleteSubrange(0, 1);
    WriteFile(dir_ / "missing.bundle", missing.SerializeAsString());
    r = Verify({"--bundle", dir_ / "missing.bundle"});
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.out.find("pk-fwo:CHG-2025-001"), std::string::npos) << r.out;
    ReportBundleEveryWay(dir_ / "missing.bundle", "us-usm:NDPR-2025-001", 4);
  }
  // Not a bundle at all.
  WriteFile(dir_ / "junk.bundle", "\x0a\xff\xff");
  EXPECT_EQ(Verify({"--bundle", dir_ / "junk.bundle"}).exit_code, 1);
  EXPECT_EQ(Verify({"--bundle", dir_ / "no-such-file"}).exit_code, 2);
  (void)separation;
}

// bundle.proto promises every attestation and correction of every lot and event on the lineage:
// a correction of the dispatch, an audit of the separation (an attestation of an event) and the
// lab's correction of its own audit (evidence about evidence) travel in the bundle, verify and
// trace show them, and they stay after a restart.
TEST_F(LineageTest, CorrectionsAndAttestationsOfLineageEventsTravelInTheBundle) {
  Extract("pk-fwo", "pk-fwo:CHG-2025-001", "pk-fwo-chagai-01", "PK", "Balochistan", 25'000'000,
          R"({"Nd": 61700, "Pr": 19900})");
  const std::string d = Dispatch("pk-fwo", "us-usm", "pk-fwo:CHG-2025-001", 25'000'000);
  const std::string fix =
      Submit("pk-fwo", R"({"correction": {"event_id": ")" + d +
                           R"(", "reason": "transshipped at Jebel Ali onto MSC Aurora",
      "transport": {"mode": "sea", "vessel": "MSC Aurora", "port_of_loading": "PKKHI",
      "port_of_discharge": "USHOU"}}})");
  Receive("us-usm", d, "pk-fwo:CHG-2025-001", 25'000'000);
  const std::string separation = Transform(
      "us-usm", "us-usm-missouri-01", "US", "SEPARATED",
      R"([{"lot_id": "pk-fwo:CHG-2025-001", "mass_g": "25000000"}])",
      R"([{"lot_id": "us-usm:NDPR-2025-001", "material": "NdPr oxide", "mass_g": "2000000",
           "composition_ppm": {"Nd": 600000, "Pr": 190000}}])");
  const std::string audit =
      Submit("au-assay-lab", R"({"attestation": {"event_id": ")" + separation + R"(",
      "kind": "ATTESTATION_KIND_AUDIT", "result": "RMAP conformant"}})");
  const std::string recall =
      Submit("au-assay-lab", R"({"correction": {"event_id": ")" + audit +
                                 R"(", "reason": "audit report number corrected",
      "notes": "RMAP assessment report RA-2025-0118"}})");

  const auto check = [&]() {
    const nlohmann::json j = VerifyJson("us-usm:NDPR-2025-001", 0);
    EXPECT_EQ(j["entries_checked"], 7) << j.dump(2);
    std::set<std::string> evidence;
    for (const auto& e : j["evidence"]) evidence.insert(e["event_id"].get<std::string>());
    EXPECT_EQ(evidence, (std::set<std::string>{fix, audit, recall})) << j["evidence"].dump(2);
    const RunResult text = Verify({"--node", node(), "--lot", "us-usm:NDPR-2025-001"});
    EXPECT_NE(text.out.find("correction by pk-fwo: corrects " + d.substr(0, 16) +
                            ": transshipped at Jebel Ali onto MSC Aurora"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("attestation by au-assay-lab: ATTESTATION_KIND_AUDIT of " +
                            separation.substr(0, 16) + ": RMAP conformant"),
              std::string::npos)
        << text.out;
    const RunResult tree = Cairn({"trace", "us-usm:NDPR-2025-001", "--node", node()});
    EXPECT_NE(tree.out.find("✎ au-assay-lab: corrects " + audit.substr(0, 16)), std::string::npos)
        << tree.out;
  };
  check();
  ASSERT_EQ(world_->node().Terminate(), 0);
  std::string error;
  ASSERT_TRUE(world_->node().Start(world_->config_path(), &error)) << error;
  check();
  ReportEveryWay("us-usm:NDPR-2025-001", 0);
}

// A lineage 60 lots deep (the separated oxide re-refined lot after lot): the default drawing
// collapses the chain instead of indenting 60 levels, --format tree draws every level, --depth
// stops with a count, --format dot gives one edge per step, and an event-id prefix traces the
// lots that event made.
TEST_F(LineageTest, DeepLineagesTraceCompactToADepthAndAsGraphviz) {
  Extract("pk-fwo", "pk-fwo:CHG-2025-001", "pk-fwo-chagai-01", "PK", "Balochistan", 25'000'000,
          R"({"Nd": 61700, "Pr": 19900})");
  Ship("pk-fwo", "us-usm", "pk-fwo:CHG-2025-001", 25'000'000);
  constexpr int kSteps = 60;
  nlohmann::json steps = nlohmann::json::array();
  std::string input = "pk-fwo:CHG-2025-001";
  for (int i = 0; i < kSteps; ++i) {
    const std::string output = "us-usm:NDPR-STEP-" + std::to_string(i);
    steps.push_back({{"transformation",
                      {{"facility",
                        {{"id", "us-usm-missouri-01"},
                         {"name", "USSM \"Missouri\" \\ plant"},
                         {"country", "US"}}},
                       {"stage", "STAGE_REFINED"},
                       {"inputs", {{{"lot_id", input}, {"mass_g", "25000000"}}}},
                       {"outputs",
                        {{{"lot_id", output},
                          {"material", "NdPr oxide"},
                          {"mass_g", "25000000"},
                          {"composition_ppm", {{"Nd", 61700}, {"Pr", 19900}}}}}}}}});
    input = output;
  }
  WriteFile(dir_ / "steps.json", steps.dump());
  RunResult r = Cairn({"submit", "--node", node(), "--key", world_->key_path("us-usm"), "--json",
                       dir_ / "steps.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string last_event = nlohmann::json::parse(r.out)[kSteps - 1]["event_id"];
  const std::string top = "us-usm:NDPR-STEP-" + std::to_string(kSteps - 1);
  const auto widest = [](const std::string& text) {
    size_t widest = 0, start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      widest = std::max(widest, end - start);
    }
    return widest;
  };

  r = Cairn({"trace", top, "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("┆ 59 lots in a linear chain, us-usm:NDPR-STEP-58 … us-usm:NDPR-STEP-0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("↑ pk-fwo:CHG-2025-001  REE concentrate, 25.000 t — mined at"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("drawn compact"), std::string::npos) << r.out;
  EXPECT_LT(widest(r.out), 200u) << r.out;

  r = Cairn({"trace", top, "--format", "tree", "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(widest(r.out), 4u * kSteps);  // every level indented
  EXPECT_NE(r.out.find("us-usm:NDPR-STEP-30  NdPr oxide"), std::string::npos);

  r = Cairn({"trace", top, "--format", "tree", "--depth", "3", "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("us-usm:NDPR-STEP-56"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("us-usm:NDPR-STEP-55"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("… 1 input lot(s) beyond --depth 3"), std::string::npos) << r.out;

  r = Cairn({"trace", top, "--format", "dot", "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("digraph lineage {", 0), 0u) << r.out;
  size_t edges = 0;
  for (size_t at = 0; (at = r.out.find(" -> ", at)) != std::string::npos; ++at) ++edges;
  EXPECT_EQ(edges, static_cast<size_t>(kSteps)) << r.out;
  // Event text is quoted by Graphviz and a backslash cannot start a DOT escape.
  EXPECT_NE(r.out.find(R"(refined at USSM \"Missouri\" \\ plant (US))"), std::string::npos)
      << r.out;

  // The last refining step by a prefix of its event id: the lot it made.
  r = Cairn({"trace", last_event.substr(0, 10), "--format", "compact", "--json", "--node", node()});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // two formats asked for
  r = Cairn({"trace", last_event.substr(0, 10), "--json", "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json traces = nlohmann::json::parse(r.out);
  ASSERT_EQ(traces.size(), 1u) << r.out;
  EXPECT_EQ(traces[0]["lot_id"], top);
  EXPECT_EQ(traces[0]["lots"].size(), static_cast<size_t>(kSteps + 1));
  // By its place in the log: entry 3 is the first refining step (after extraction, dispatch and
  // receipt), which made STEP-0 of the ore.
  r = Cairn({"trace", "--index", "3", "--json", "--node", node()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["lot_id"], "us-usm:NDPR-STEP-0") << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["lots"].size(), 2u) << r.out;
  EXPECT_EQ(Cairn({"trace", "--index", "999", "--node", node()}).exit_code, 1);  // no such entry
  EXPECT_EQ(Cairn({"trace", "--node", node()}).exit_code, 2);
  ReportEveryWay(top, 0);
}

TEST_F(LineageTest, BlendOfAustralianAndPakistaniConcentrateHasCorrectShares) {
  Extract("pk-fwo", "pk-fwo:CHG-1", "pk-fwo-chagai-01", "PK", "Balochistan", 10'000'000,
          R"({"Nd": 61700, "Pr": 19900})");
  Ship("pk-fwo", "us-usm", "pk-fwo:CHG-1", 10'000'000);
  Extract("au-lynas", "au-lynas:MTW-1", "au-mt-weld", "AU", "Western Australia", 40'000'000,
          R"({"Nd": 70000, "Pr": 20000})");
  Ship("au-lynas", "my-lynas", "au-lynas:MTW-1", 40'000'000);
  Transform("my-lynas", "my-lynas-gebeng", "MY", "REFINED",
            R"([{"lot_id": "au-lynas:MTW-1", "mass_g": "40000000"}])",
            R"([{"lot_id": "my-lynas:MREC-1", "material": "mixed RE carbonate",
                 "mass_g": "12000000", "composition_ppm": {"Nd": 200000, "Pr": 60000}}])");
  Ship("my-lynas", "us-usm", "my-lynas:MREC-1", 12'000'000);
  Transform("us-usm", "us-usm-missouri-01", "US", "SEPARATED",
            R"([{"lot_id": "pk-fwo:CHG-1", "mass_g": "10000000"},
                {"lot_id": "my-lynas:MREC-1", "mass_g": "12000000"}])",
            R"([{"lot_id": "us-usm:NDPR-1", "material": "NdPr oxide", "mass_g": "3000000",
                 "composition_ppm": {"Nd": 600000, "Pr": 190000}}])");
  const nlohmann::json j = VerifyJson("us-usm:NDPR-1", 0);
  ReportEveryWay("us-usm:NDPR-1", 0);
  const auto& mass = j["attribution"]["mass"];
  EXPECT_NEAR(mass["by_country"]["PK"].get<double>(), 10.0 / 22.0, 1e-9) << j.dump(2);
  EXPECT_NEAR(mass["by_country"]["AU"].get<double>(), 12.0 / 22.0, 1e-9);
  EXPECT_NEAR(mass["by_facility_country"]["MY"].get<double>(), 12.0 / 22.0, 1e-9);
  // Of the neodymium, 617 kg came from Chagai and 2,400 kg through Gebeng.
  EXPECT_NEAR(j["attribution"]["by_element"]["Nd"]["by_country"]["PK"].get<double>(),
              617.0 / 3017.0, 1e-9);
}

TEST_F(LineageTest, KachinMaterialTwoHopsUpstreamIsARestrictedSource) {
  const auto [kachin, separation] = KachinBlend();
  const RunResult human = Verify({"--node", node(), "--lot", "us-usm:NDPR-2"});
  EXPECT_EQ(human.exit_code, 3) << human.out << human.err;
  EXPECT_EQ(human.out.rfind("RESTRICTED: lot us-usm:NDPR-2", 0), 0u) << human.out;

  const nlohmann::json j = VerifyJson("us-usm:NDPR-2", 3);
  ReportEveryWay("us-usm:NDPR-2", 3);
  ASSERT_EQ(j["violations"].size(), 2u) << j.dump(2);  // the Kachin region and the trader
  for (const auto& v : j["violations"]) {
    // 5 of the carbonate's 35 t inputs; the carbonate is half of the oxide's inputs.
    EXPECT_NEAR(v["share"].get<double>(), 0.5 * 5.0 / 35.0, 1e-9) << v.dump();
    EXPECT_EQ(v["path"].back(), separation);
  }
  EXPECT_EQ(j["violations"][0]["reason"], "conflict-affected and high-risk area (OECD Annex II)");
  EXPECT_EQ(j["violations"][0]["path"][0], kachin);
}

// The Kachin blend written up for a compliance officer: every format says RESTRICTED, names the
// Kachin site and the sanctioned trader with their OECD red flag and the events proving it, the
// kilograms of each origin, the facilities with their process steps, the custody with HS codes,
// and what was checked (policy and bundle SHA-256, checkpoints).
TEST_F(LineageTest, AReportOfTheKachinBlendNamesTheRestrictedSourceInEveryFormat) {
  const auto [kachin, separation] = KachinBlend();
  RunResult r = Report(
      {"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "json", "-o", dir_ / "report.json"});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;  // as verify: restricted source found
  EXPECT_EQ(r.out.rfind("RESTRICTED: lot us-usm:NDPR-2", 0), 0u) << r.out;
  const nlohmann::json j = nlohmann::json::parse(ReadFile(dir_ / "report.json"));
  EXPECT_EQ(j["verdict"]["verdict"], "RESTRICTED");
  EXPECT_EQ(j["subject"]["mass_g"], 3000000);
  const nlohmann::json& checked = j["checked"];
  EXPECT_EQ(checked["policy"]["name"], "defence magnets 2027");
  EXPECT_EQ(checked["policy"]["sha256"], ToHex(Sha256(ReadFile(dir_ / "policy.toml"))));
  EXPECT_EQ(checked["registry"]["version"], 1);
  EXPECT_EQ(checked["as_of"], "2027-03-01");
  ASSERT_EQ(checked["checkpoints"].size(), 1u) << checked.dump(2);
  EXPECT_EQ(checked["checkpoints"][0]["size"], checked["events"]);
  EXPECT_EQ(checked["checkpoints"][0]["root_hash"].get<std::string>().size(), 64u);
  // Half the oxide's inputs are the carbonate, 5 of whose 35 t came from Kachin: 214 kg of 3 t.
  const double kachin_share = 0.5 * 5.0 / 35.0;
  bool saw_mm = false;
  for (const auto& row : j["origin"]["mass"]) {
    if (row["dimension"] == "country" && row["key"] == "MM") {
      saw_mm = true;
      EXPECT_NEAR(row["share"].get<double>(), kachin_share, 1e-9);
      EXPECT_NEAR(row["mass_kg"].get<double>(), kachin_share * 3000, 1e-6);
    }
  }
  EXPECT_TRUE(saw_mm) << j["origin"].dump(2);
  std::set<std::string> sites, steps;
  for (const auto& site : j["sites"]) sites.insert(site["site_id"].get<std::string>());
  EXPECT_EQ(sites, (std::set<std::string>{"mm-chipwi-pangwa", "au-mt-weld", "pk-fwo-chagai-01"}));
  for (const auto& f : j["facilities"]) {
    steps.insert(f["facility_id"].get<std::string>() + " " + f["process_step"].get<std::string>());
  }
  EXPECT_EQ(steps,
            (std::set<std::string>{"my-lynas-gebeng refined", "us-usm-missouri-01 separated"}));
  size_t dispatches = 0;
  for (const auto& c : j["custody"]) {
    if (c["kind"] != "Dispatch") continue;
    ++dispatches;
    EXPECT_EQ(c["hs_code"], "2846.90") << c.dump();
  }
  EXPECT_EQ(dispatches, 5u);
  const nlohmann::json* restricted = nullptr;
  for (const auto& group : j["findings"]) {
    if (group["kind"] == "restricted_source") restricted = &group;
  }
  ASSERT_NE(restricted, nullptr) << j["findings"].dump(2);
  ASSERT_EQ((*restricted)["count"], 2);  // the Kachin region and the sanctioned trader
  EXPECT_NE((*restricted)["items"][0]["red_flag"].get<std::string>().find("conflict-affected"),
            std::string::npos);
  EXPECT_EQ((*restricted)["items"][0]["event_ids"][0], kachin);
  EXPECT_EQ((*restricted)["items"][0]["event_ids"].back(), separation);

  // Markdown, to stdout (the verdict then on stderr).
  r = Report({"--node", node(), "--lot", "us-usm:NDPR-2"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out.rfind("# Provenance report: lot us-usm:NDPR-2\n\n**RESTRICTED**", 0), 0u)
      << r.out;
  for (const char* want : {"## Findings", "| mm-chipwi-pangwa |", "| my-lynas-gebeng |",
                           "conflict-affected", "## Chain of custody"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  EXPECT_EQ(r.err.rfind("RESTRICTED: lot us-usm:NDPR-2", 0), 0u) << r.err;

  // CSV: one file per table, parsed back by Python's csv module, as many rows as the JSON has.
  r = Report({"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "csv", "-o", dir_ / "csv"});
  ASSERT_EQ(r.exit_code, 3) << r.err;
  const nlohmann::json csv = ParseCsvDirectory(dir_ / "csv");
  for (const char* table : {"summary", "checkpoints", "origin", "elements", "sites", "facilities",
                            "custody", "transit_losses", "findings"}) {
    EXPECT_TRUE(csv.contains(table)) << table << " " << csv.dump();
  }
  EXPECT_EQ(csv["origin"].size(), j["origin"]["mass"].size() + 1);  // + the header
  EXPECT_EQ(csv["custody"].size(), j["custody"].size() + 1);
  EXPECT_EQ(csv["sites"][0][0], "site id");
  EXPECT_EQ(csv["summary"][1], (nlohmann::json{"verdict", "RESTRICTED"}));
  // Existing files are not overwritten without --force; with it they are.
  r = Report({"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "csv", "-o", dir_ / "csv"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  r = Report({"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "csv", "-o", dir_ / "csv",
              "--force"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // No lot and no bundle: a usage error.
  EXPECT_EQ(Report({"--node", node()}).exit_code, 2);

  // HTML: one self-contained file; the graph has a box per lot and an ellipse per
  // transformation, and the Kachin path is drawn red.
  r = Report(
      {"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "html", "-o", dir_ / "report.html"});
  ASSERT_EQ(r.exit_code, 3) << r.err;
  const std::string html = ReadFile(dir_ / "report.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<div class=\"verdict RESTRICTED\" id=\"verdict\"><b>RESTRICTED</b>"),
            std::string::npos);
  size_t nodes = 0;
  for (size_t at = 0; (at = html.find("class=\"node\"", at)) != std::string::npos; ++at) ++nodes;
  EXPECT_EQ(nodes, 5u + 2u);  // lots: Kachin ore, Mt Weld ore, carbonate, Chagai ore, oxide
  EXPECT_NE(html.find("stroke=\"#d62728\""), std::string::npos);  // the restricted path
  for (const char* external : {"<script", "<link", "src=", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
}

// Headless Chromium (Debian's chromium, from deploy/install-deps.sh) on `page` with `flags`,
// in a fresh profile; its console messages are the stderr lines marked ":CONSOLE".
struct BrowserRun {
  RunResult run;
  std::vector<std::string> console;
};
BrowserRun Chromium(const TempDir& dir, const std::string& page, std::vector<std::string> flags) {
  static int profiles = 0;
  std::vector<std::string> argv = {
      "/usr/bin/chromium",
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--enable-logging=stderr",
      "--v=0",
      "--user-data-dir=" + (dir / "profile-") + std::to_string(++profiles)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("file://" + page);
  BrowserRun out{RunProcess(argv), {}};
  std::istringstream lines(out.run.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(":CONSOLE") != std::string::npos) out.console.push_back(line);
  }
  return out;
}

// The HTML report of the Kachin blend in a real browser: it loads with no console message, its
// DOM holds the provenance graph's SVG with a node per lot and per transformation and the
// restricted path in red, and it renders (a screenshot in the build tree:
// tests/report-screenshots/kachin-blend.png). A page with a script error is caught the same way.
TEST_F(LineageTest, TheHtmlReportLoadsInChromiumWithoutConsoleErrors) {
  KachinBlend();
  const std::string html = dir_ / "report.html";
  ASSERT_EQ(Report({"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "html", "-o", html})
                .exit_code,
            3);
  const BrowserRun dom = Chromium(dir_, html, {"--dump-dom"});
  ASSERT_EQ(dom.run.exit_code, 0) << dom.run.err;
  EXPECT_TRUE(dom.console.empty()) << dom.run.err;
  const size_t graph = dom.run.out.find("id=\"provenance-graph\"");
  ASSERT_NE(graph, std::string::npos) << dom.run.out.substr(0, 2000);
  EXPECT_NE(dom.run.out.find("<svg", graph), std::string::npos);
  size_t nodes = 0;
  for (size_t at = 0; (at = dom.run.out.find("class=\"node\"", at)) != std::string::npos; ++at) {
    ++nodes;
  }
  EXPECT_EQ(nodes, 5u + 2u);  // 5 lots, 2 transformations
  EXPECT_NE(dom.run.out.find("stroke=\"#d62728\""), std::string::npos);  // restricted path
  EXPECT_NE(dom.run.out.find("<b>RESTRICTED</b>"), std::string::npos);

  std::filesystem::create_directories("report-screenshots");
  const std::string shot = std::filesystem::absolute("report-screenshots/kachin-blend.png");
  const BrowserRun screenshot =
      Chromium(dir_, html, {"--window-size=1400,1800", "--screenshot=" + shot});
  ASSERT_EQ(screenshot.run.exit_code, 0) << screenshot.run.err;
  EXPECT_EQ(ReadFile(shot).rfind("\x89PNG", 0), 0u);

  // The check can fail: a console error and an uncaught exception are both seen.
  const std::string bad = dir_ / "bad.html";
  WriteFile(bad, "<p>x</p><script>console.error('boom'); undefinedFunction();</script>");
  EXPECT_EQ(Chromium(dir_, bad, {"--dump-dom"}).console.size(), 2u);
}

// PDF: the HTML document printed by headless Chromium, with the report's text and the page
// numbers of its @page rules; without a browser, a clear error and no file.
TEST_F(LineageTest, APdfReportIsTheHtmlReportPrintedWithPageNumbers) {
  KachinBlend();
  const std::string pdf = dir_ / "report.pdf";
  RunResult r = Report({"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "pdf", "-o", pdf});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(ReadFile(pdf).rfind("%PDF-", 0), 0u);
  const RunResult info = RunProcess({"/usr/bin/pdfinfo", pdf});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const size_t pages_at = info.out.find("Pages:");
  ASSERT_NE(pages_at, std::string::npos) << info.out;
  const int pages = std::stoi(info.out.substr(pages_at + 6));
  EXPECT_GE(pages, 2) << info.out;  // A4 landscape: the graph and the tables need more than one
  const RunResult text = RunProcess({"/usr/bin/pdftotext", "-layout", pdf, "-"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("RESTRICTED"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Provenance report: lot us-usm:NDPR-2"), std::string::npos);
  EXPECT_NE(text.out.find("page 1 of " + std::to_string(pages)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("page " + std::to_string(pages) + " of " + std::to_string(pages)),
            std::string::npos);

  setenv("CAIRN_CHROMIUM", (dir_ / "no-such-browser").c_str(), 1);
  r = Report(
      {"--node", node(), "--lot", "us-usm:NDPR-2", "--format", "pdf", "-o", dir_ / "none.pdf"});
  unsetenv("CAIRN_CHROMIUM");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("CAIRN_CHROMIUM"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.pdf"));
}

// The Kachin blend's lineage as EPCIS 2.0: every verified event mapped (extractions
// commissioned at their mine site, shipments and receipts between owning parties,
// transformations with kg in and out at their facility), each carrying its signed original, and
// the document accepted by GS1's validator, which rejects a tampered copy.
TEST_F(LineageTest, TheKachinBlendExportsAsEpcisThatTheGs1ValidatorAccepts) {
  const auto [kachin, separation] = KachinBlend();
  const std::string out = dir_ / "ndpr.jsonld";
  RunResult r = Cairn({"export", "--node", node(), "us-usm:NDPR-2", "--epcis", "--registry",
                       world_->registry_path(), "--policy", dir_ / "policy.toml", "--as-of",
                       "2027-03-01", "-o", out});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;  // as verify: a restricted source fed the lot
  EXPECT_NE(r.out.find("EPCIS 2.0 event(s)"), std::string::npos) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(out));
  EXPECT_EQ(doc["type"], "EPCISDocument");
  EXPECT_EQ(doc["schemaVersion"], "2.0");
  EXPECT_EQ(doc["cairn:lineage"]["verdict"], "RESTRICTED");
  std::map<std::string, int> steps;
  const nlohmann::json* kachin_event = nullptr;
  const nlohmann::json* separation_event = nullptr;
  for (const nlohmann::json& e : doc["epcisBody"]["eventList"]) {
    ++steps[e["type"].get<std::string>() + "/" + e["bizStep"].get<std::string>()];
    if (e["cairn:eventId"] == kachin) kachin_event = &e;
    if (e["cairn:eventId"] == separation) separation_event = &e;
    // The signed original: its body hashes to the event id.
    const std::string b64 = e["cairn:signedBody"];
    std::string body(b64.size(), '\0');
    size_t len = 0;
    ASSERT_EQ(
        sodium_base642bin(reinterpret_cast<unsigned char*>(body.data()), body.size(), b64.data(),
                          b64.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL),
        0);
    body.resize(len);
    EXPECT_EQ(ToHex(Sha256("cairn/event/v1\n" + body)), e["cairn:eventId"]);
    EXPECT_EQ(e["cairn:signature"].get<std::string>().size(), 128u);
    EXPECT_EQ(e["cairn:logId"], "demo-log");
  }
  EXPECT_EQ(steps, (std::map<std::string, int>{{"ObjectEvent/commissioning", 3},
                                               {"ObjectEvent/shipping", 5},
                                               {"ObjectEvent/receiving", 5},
                                               {"TransformationEvent/commissioning", 2}}));
  ASSERT_NE(kachin_event, nullptr);
  EXPECT_EQ((*kachin_event)["action"], "ADD");
  EXPECT_EQ((*kachin_event)["readPoint"]["id"], "urn:cairn:site:mm-chipwi-pangwa");
  EXPECT_EQ((*kachin_event)["quantityList"][0],
            (nlohmann::json{{"epcClass", "urn:cairn:lot:mm-chipwi:KC-2025-07"},
                            {"quantity", 5000.0},
                            {"uom", "KGM"}}));
  ASSERT_NE(separation_event, nullptr);
  EXPECT_EQ((*separation_event)["inputQuantityList"].size(), 2u);
  EXPECT_EQ((*separation_event)["outputQuantityList"][0]["epcClass"],
            "urn:cairn:lot:us-usm:NDPR-2");
  EXPECT_EQ((*separation_event)["outputQuantityList"][0]["quantity"], 3000.0);
  EXPECT_EQ((*separation_event)["bizLocation"]["id"], "urn:cairn:facility:us-usm-missouri-01");

  const RunResult valid = ValidateEpcis({out});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  EXPECT_NE(valid.out.find("\"success\":true"), std::string::npos) << valid.out;
  nlohmann::json tampered = doc;
  tampered["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = "kilograms";
  WriteFile(dir_ / "tampered.jsonld", tampered.dump());
  EXPECT_EQ(ValidateEpcis({dir_ / "tampered.jsonld"}).exit_code, 1);

  // Offline, from the evidence bundle, the same events; the bundle names its lot.
  ASSERT_EQ(
      Cairn({"export", "--node", node(), "us-usm:NDPR-2", "-o", dir_ / "ndpr.bundle"}).exit_code,
      0);
  r = Cairn({"export", "--epcis", "--bundle", dir_ / "ndpr.bundle", "--registry",
             world_->registry_path(), "--policy", dir_ / "policy.toml", "--as-of", "2027-03-01",
             "-o", dir_ / "offline.jsonld"});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("lot us-usm:NDPR-2's lineage"), std::string::npos) << r.out;
  const nlohmann::json offline = nlohmann::json::parse(ReadFile(dir_ / "offline.jsonld"));
  EXPECT_EQ(offline["epcisBody"], doc["epcisBody"]);
  EXPECT_EQ(ValidateEpcis({dir_ / "offline.jsonld"}).exit_code, 0);
  r = Cairn({"export", "pk-fwo:CHG-2", "--epcis", "--bundle", dir_ / "ndpr.bundle", "--registry",
             world_->registry_path(), "-o", dir_ / "other.jsonld"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("holds the lineage of lot us-usm:NDPR-2"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "other.jsonld"));
  // Bytes that are not a bundle are not evidence.
  WriteFile(dir_ / "junk.bundle", "not a bundle");
  r = Cairn({"export", "--epcis", "--bundle", dir_ / "junk.bundle", "--registry",
             world_->registry_path(), "-o", dir_ / "junk.jsonld"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "junk.jsonld"));

  // Without a registry nothing is converted.
  r = Cairn({"export", "--node", node(), "us-usm:NDPR-2", "--epcis", "-o", dir_ / "x.jsonld"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--registry"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.jsonld"));
}

// An auditor's report goes back onto the ledger as an audit attestation; a downstream buyer's
// verify and report show it and check a report file against the attested hash.
TEST_F(LineageTest, AnAttestedReportIsShownDownstreamAndCheckedByItsHash) {
  PakistanConsignment();
  const std::string lot = "us-usm:NDPR-2025-001";
  const std::string html = dir_ / "audit.html";
  RunResult r = Report({"--node", node(), "--lot", lot, "--format", "html", "-o", html, "--attest",
                        "--key", world_->key_path("ch-audit")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string sha = ToHex(Sha256(ReadFile(html)));
  EXPECT_NE(r.out.find("attested: ch-audit's audit of lot " + lot +
                       " (VERIFIED under policy \"defence magnets 2027\" as of 2027-03-01, "
                       "report sha256 " +
                       sha + ")"),
            std::string::npos)
      << r.out;
  const std::string today = FormatTime(SystemClock().NowMicros()).substr(0, 10);

  r = Verify({"--node", node(), "--lot", lot, "--check-report", html});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("audited by ch-audit on " + today +
                       ": VERIFIED under policy \"defence magnets 2027\" as of 2027-03-01 "
                       "(report audit.html, sha256 " +
                       sha.substr(0, 16)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("report " + html + " is the report ch-audit attested on " + today),
            std::string::npos)
      << r.out;

  // A report changed after the audit matches no attestation: exit 1.
  WriteFile(dir_ / "edited.html", ReadFile(html) + " ");
  r = Verify({"--node", node(), "--lot", lot, "--check-report", dir_ / "edited.html"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("matches no audit of lot " + lot), std::string::npos) << r.err;

  // Offline, from the exported bundle, in the report's data and the tables.
  ASSERT_EQ(Cairn({"export", "--node", node(), lot, "-o", dir_ / "ndpr.bundle"}).exit_code, 0);
  r = Report({"--bundle", dir_ / "ndpr.bundle", "--format", "json", "--check-report", html});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report["audits"].size(), 1u) << report["audits"];
  const nlohmann::json& audit = report["audits"][0];
  EXPECT_EQ(audit["by"], "ch-audit");
  EXPECT_EQ(audit["verdict"], "VERIFIED");
  EXPECT_EQ(audit["report_sha256"], sha);
  EXPECT_EQ(audit["policy_sha256"], ToHex(Sha256(kPolicy)));
  EXPECT_EQ(audit["same_policy"], true);
  EXPECT_EQ(report["report_checks"][0]["matches"], true);
  EXPECT_EQ(report["report_checks"][0]["audit"]["event_id"], audit["event_id"]);
  r = Report({"--bundle", dir_ / "ndpr.bundle", "--format", "md"});
  EXPECT_NE(r.out.find("## Audits of this lot and the lots it was made from, on the ledger"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| audited | lot " + lot + " by ch-audit on " + today), std::string::npos)
      << r.out;

  // The magnet maker that bought the audited oxide sees the audit in its own product's lineage.
  Ship("us-usm", "jp-magnets", lot, 2'000'000);
  Transform("jp-magnets", "jp-magnets-fukui-01", "JP", "PRODUCED",
            R"([{"lot_id": "us-usm:NDPR-2025-001", "mass_g": "2000000"}])",
            R"([{"lot_id": "jp-magnets:MAG-1", "material": "sintered NdFeB magnets",
                 "mass_g": "6000000", "composition_ppm": {"Nd": 195000, "Pr": 62000}}])");
  r = Verify({"--node", node(), "--lot", "jp-magnets:MAG-1", "--check-report", html});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("lot " + lot + " audited by ch-audit on " + today + ": VERIFIED"),
            std::string::npos)
      << r.out;

  // Refused before anything is written: no key; csv; a mine's key is refused by the node.
  r = Report({"--node", node(), "--lot", lot, "--format", "md", "-o", dir_ / "x.md", "--attest"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--key"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.md"));
  r = Report({"--node", node(), "--lot", lot, "--format", "csv", "-o", dir_ / "csv", "--attest",
              "--key", world_->key_path("ch-audit")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "csv"));
  r = Report({"--node", node(), "--lot", lot, "--format", "md", "-o", dir_ / "mine.md", "--attest",
              "--key", world_->key_path("pk-fwo")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("not attested"), std::string::npos) << r.err;
  const nlohmann::json after = VerifyJson(lot, 0);
  EXPECT_EQ(after["audits"].size(), 1u) << after["audits"];
}

// The annual declaration: every lot US Strategic Metals received or produced in the period, each
// lineage verified, with the portfolio per element and stage against the CRMA's 65% benchmark.
TEST_F(LineageTest, APeriodReportAggregatesEveryLotReceivedAndProducedWithTheCrmaBenchmark) {
  PakistanConsignment();
  KachinBlend();
  const int64_t now = SystemClock().NowMicros();
  const std::string yesterday = FormatTime(now - 86'400'000'000LL).substr(0, 10);
  const std::string tomorrow = FormatTime(now + 86'400'000'000LL).substr(0, 10);
  RunResult r = Report({"--node", node(), "--participant", "us-usm", "--from", yesterday, "--to",
                        tomorrow, "--format", "json"});
  ASSERT_EQ(r.exit_code, 3) << r.err;  // Kachin material in the blend
  const nlohmann::json report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["report"]["kind"], "period");
  EXPECT_EQ(report["checked"]["home_log"]["log_id"], "demo-log");
  std::map<std::string, std::string> verdicts;
  for (const auto& lot : report["lots"]) {
    verdicts[lot["role"].get<std::string>() + " " + lot["lot_id"].get<std::string>()] =
        lot["verdict"];
  }
  EXPECT_EQ(verdicts,
            (std::map<std::string, std::string>{{"received pk-fwo:CHG-2025-001", "VERIFIED"},
                                                {"received my-lynas:MREC-2", "RESTRICTED"},
                                                {"received pk-fwo:CHG-2", "VERIFIED"},
                                                {"produced us-usm:NDPR-2025-001", "VERIFIED"},
                                                {"produced us-usm:LACE-2025-001", "VERIFIED"},
                                                {"produced us-usm:NDPR-2", "RESTRICTED"}}));
  auto row = [&](const std::string& basis, const std::string& element, const std::string& stage,
                 const std::string& country) {
    for (const auto& p : report["portfolio"]) {
      if (p["basis"] == basis && p["element"] == element && p["stage"] == stage &&
          p["country"] == country) {
        return p;
      }
    }
    ADD_FAILURE() << basis << " " << element << " " << stage << " " << country << " not in "
                  << report["portfolio"].dump(1);
    return nlohmann::json::object();
  };
  // Nd received: 24,985 kg x 6.17% and 10,000 kg x 6.17% from Chagai; 10,000 kg x 25% of carbonate
  // refined at Gebeng from Mount Weld (2,100 kg Nd) and Kachin (750 kg Nd) ore.
  const double chagai = 24'985'000 * 0.0617 + 10'000'000 * 0.0617;
  const double carbonate = 10'000'000 * 0.25;
  const double total = chagai + carbonate;
  EXPECT_NEAR(row("received", "Nd", "mined", "PK")["share"].get<double>(), chagai / total, 1e-6);
  EXPECT_NEAR(row("received", "Nd", "mined", "MM")["share"].get<double>(),
              carbonate * 750 / 2850 / total, 1e-6);
  EXPECT_NEAR(row("received", "Nd", "refined", "MY")["share"].get<double>(), carbonate / total,
              1e-6);
  EXPECT_EQ(row("received", "Nd", "refined", "MY")["above_crma_benchmark"], false);
  // Every kilogram of NdPr oxide produced was separated in Missouri: a single third country at
  // 100% for the EU's benchmark.
  const nlohmann::json separated = row("produced", "Nd", "separated", "US");
  EXPECT_NEAR(separated["share"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(separated["third_country"], true);
  EXPECT_EQ(separated["above_crma_benchmark"], true);
  EXPECT_NEAR(separated["mass_kg"].get<double>(), 2000 * 0.6 + 3000 * 0.6, 1e-6);

  // Every format; CSV read back by Python's csv module.
  r = Report({"--node", node(), "--participant", "us-usm", "--from", yesterday, "--to", tomorrow,
              "--format", "csv", "-o", dir_ / "period-csv"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const nlohmann::json csv = ParseCsvDirectory(dir_ / "period-csv");
  ASSERT_TRUE(csv.contains("lots")) << csv;
  EXPECT_EQ(csv["lots"].size(), 7u);  // header and six lots
  EXPECT_EQ(csv["portfolio"][0][7], "above the 65% benchmark");
  r = Report({"--node", node(), "--participant", "us-usm", "--from", yesterday, "--to", tomorrow,
              "--format", "md"});
  EXPECT_NE(r.out.find("# Sourcing report: US Strategic Metals (us-usm), " + yesterday + " to " +
                       tomorrow),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| produced | Nd | separated | US | 100.00% |"), std::string::npos) << r.out;
  r = Report({"--node", node(), "--participant", "us-usm", "--from", yesterday, "--to", tomorrow,
              "--format", "html", "-o", dir_ / "period.html"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const std::string html = ReadFile(dir_ / "period.html");
  EXPECT_NE(html.find("<h2 id=\"portfolio\">"), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);

  // A period with nothing in it; the mine produced one lot.
  r = Report({"--node", node(), "--participant", "us-usm", "--from", "2020-01-01", "--to",
              "2020-12-31", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["lots"].size(), 0u);
  r = Report({"--node", node(), "--participant", "mm-chipwi", "--from", yesterday, "--to", tomorrow,
              "--format", "json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["lots"].size(), 1u);

  // Usage errors.
  r = Report({"--node", node(), "--participant", "us-usm", "--from", yesterday});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--to"), std::string::npos) << r.err;
  r = Report({"--node", node(), "--participant", "nobody", "--from", yesterday, "--to", tomorrow});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nobody is not in the registry"), std::string::npos) << r.err;
  r = Report({"--node", node(), "--participant", "us-usm", "--from", tomorrow, "--to", yesterday});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is before --from"), std::string::npos) << r.err;
}

// Text from events reaches the HTML report escaped: a site name carrying markup is shown, not
// run, in the tables (mustache escapes every value).
TEST_F(LineageTest, AnHtmlReportEscapesEventText) {
  Extract("pk-fwo", "pk-fwo:CHG-X", "pk-fwo-chagai-01", "PK", "Balochistan", 1'000'000,
          R"({"Nd": 61700})");
  Submit("au-assay-lab", R"({"attestation": {"lot_id": "pk-fwo:CHG-X", "kind":
      "ATTESTATION_KIND_AUDIT", "result": "<script>alert(1)</script> & <b>ok</b>"}})");
  const RunResult r = Report(
      {"--node", node(), "--lot", "pk-fwo:CHG-X", "--format", "html", "-o", dir_ / "r.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = ReadFile(dir_ / "r.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>ok"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;ok"), std::string::npos)
      << html;
}

// The Pakistani consignment's report, offline from its exported bundle: compliant, the bundle's
// SHA-256 that of the file, the 15 kg transit loss, the Perth lab's assay beside the facility
// that made the oxide.
TEST_F(LineageTest, AReportFromABundleShowsTheTransitLossAndTheAssay) {
  PakistanConsignment();
  const std::string assay = Submit("au-assay-lab", R"({"attestation": {"lot_id":
      "us-usm:NDPR-2025-001", "kind": "ATTESTATION_KIND_ASSAY", "composition_ppm": {"Nd": 601000,
      "Pr": 189500}, "result": "conforms", "documents": [{"kind": "assay_certificate", "uri":
      "https://lab.example/COA-2025-311.pdf", "sha256":
      "f846fafbf586fe30f600a098020ce331a09c9525e463d2ba0583973115d337f0"}]}})");
  ASSERT_EQ(Cairn({"export", "us-usm:NDPR-2025-001", "-o", dir_ / "ndpr.bundle", "--node", node()})
                .exit_code,
            0);
  ASSERT_EQ(world_->node().Terminate(), 0);
  const RunResult r =
      Report({"--bundle", dir_ / "ndpr.bundle", "--format", "json", "-o", dir_ / "r.json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadFile(dir_ / "r.json"));
  EXPECT_EQ(j["verdict"]["verdict"], "VERIFIED");
  EXPECT_EQ(j["checked"]["bundle_sha256"], ToHex(Sha256(ReadFile(dir_ / "ndpr.bundle"))));
  EXPECT_EQ(j["checked"]["evidence_from"], "file " + (dir_ / "ndpr.bundle"));
  ASSERT_EQ(j["transit_losses"].size(), 1u) << j["transit_losses"].dump(2);
  EXPECT_EQ(j["transit_losses"][0]["lost_g"], 15000);
  EXPECT_EQ(j["transit_losses"][0]["lot_id"], "pk-fwo:CHG-2025-001");
  ASSERT_EQ(j["facilities"].size(), 1u);
  const nlohmann::json& attestations = j["facilities"][0]["attestations"];
  ASSERT_EQ(attestations.size(), 1u) << j["facilities"].dump(2);
  EXPECT_EQ(attestations[0]["by"], "au-assay-lab");
  EXPECT_EQ(attestations[0]["event_id"], assay);
  EXPECT_EQ(attestations[0]["documents"][0]["sha256"],
            "f846fafbf586fe30f600a098020ce331a09c9525e463d2ba0583973115d337f0");
  bool loss_finding = false;
  for (const auto& group : j["findings"]) loss_finding |= group["kind"] == "transit_loss";
  EXPECT_TRUE(loss_finding) << j["findings"].dump(2);
}

TEST_F(LineageTest, DysprosiumReportedFromNowhereIsAnIntegrityFailureInKg) {
  PakistanConsignment();
  // Chagai's concentrate declares no Dy; 500 kg of 87% Dy oxide cannot have come from it.
  const std::string laundering =
      Transform("us-usm", "us-usm-missouri-01", "US", "SEPARATED",
                R"([{"lot_id": "us-usm:LACE-2025-001", "mass_g": "1000000"}])",
                R"([{"lot_id": "us-usm:DY-2025-001", "material": "Dy oxide", "mass_g": "500000",
                     "composition_ppm": {"Dy": 870000}}])");
  const RunResult r = Verify({"--node", node(), "--lot", "us-usm:DY-2025-001"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("Dy out 435.000 kg exceeds Dy in 0.000 kg by 435.000 kg"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(laundering), std::string::npos) << r.out;
  ReportEveryWay("us-usm:DY-2025-001", 1);
}

TEST_F(LineageTest, NodeRefusesOverDispatchAndAReceiptOfAnotherRecipientsDispatch) {
  PakistanConsignment();
  // us-usm holds 2 t of NdPr oxide; 3 t cannot leave.
  RunResult r = TrySubmit("us-usm", R"({"dispatch": {"shipment_id": "X", "recipient": "jp-magnets",
      "lots": [{"lot_id": "us-usm:NDPR-2025-001", "mass_g": "3000000"}]}})");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("FAILED_PRECONDITION"), std::string::npos) << r.err;
  const std::string to_jp = Dispatch("us-usm", "jp-magnets", "us-usm:NDPR-2025-001", 1'000'000);
  // A receipt by the wrong party.
  r = TrySubmit("my-lynas",
                R"({"receipt": {"dispatch_event_id": ")" + to_jp +
                    R"(", "lots": [{"lot_id": "us-usm:NDPR-2025-001", "mass_g": "1000000"}]}})");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("PERMISSION_DENIED"), std::string::npos) << r.err;
  Receive("jp-magnets", to_jp, "us-usm:NDPR-2025-001", 1'000'000);
  // The refused events changed nothing: the lineage verifies.
  const nlohmann::json j = VerifyJson("us-usm:NDPR-2025-001", 0);
  EXPECT_EQ(j["entries_checked"], 6);
  ReportEveryWay("us-usm:NDPR-2025-001", 0);
}

TEST_F(LineageTest, KeyRevokedAfterTheEventsVerifiesRevokedBeforeFails) {
  PakistanConsignment();
  const std::string key_id = world_->key("pk-fwo").key_id;
  const std::string registrar = dir_ / "keys/cairn-registrar.key";
  auto revoked_registry = [&](const std::string& name, const std::string& at) {
    const std::string path = dir_ / name;
    WriteFile(path, ReadFile(world_->registry_path()));
    EXPECT_EQ(
        Cairn({"registry", "revoke", "--registry", path, "--key-id", key_id, "--at", at}).exit_code,
        0);
    const RunResult s = Cairn({"registry", "sign", "--registry", path, "--key", registrar});
    EXPECT_EQ(s.exit_code, 0) << s.err;
    return path;
  };
  // Revoked tomorrow: the events signed and appended today stand.
  const std::string later =
      revoked_registry("later.json", FormatTime(SystemClock().NowMicros() + 86400000000LL));
  RunResult r = Verify({"--node", node(), "--lot", "us-usm:NDPR-2025-001"}, later);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Revoked yesterday (a compromise found out late): pk-fwo's events no longer verify.
  const std::string earlier =
      revoked_registry("earlier.json", FormatTime(SystemClock().NowMicros() - 86400000000LL));
  r = Verify({"--node", node(), "--lot", "us-usm:NDPR-2025-001"}, earlier);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("revoked"), std::string::npos) << r.out;
  ReportEveryWay("us-usm:NDPR-2025-001", 0, later);
  ReportEveryWay("us-usm:NDPR-2025-001", 1, earlier);
}

}  // namespace
}  // namespace cairn::itest
