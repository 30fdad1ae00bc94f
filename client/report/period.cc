#include "client/report/period.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "client/format.h"
#include "common/clock.h"
#include "common/crypto.h"

namespace cairn::client::report {
namespace {

std::string Date(int64_t micros) { return FormatTime(micros).substr(0, 10); }

// Stages in the order material passes through them.
constexpr std::array<const char*, 6> kStageOrder = {"mined",  "refined",  "separated",
                                                    "melted", "produced", "blended"};

int StageRank(const std::string& stage) {
  for (size_t i = 0; i < kStageOrder.size(); ++i) {
    if (stage == kStageOrder[i]) return static_cast<int>(i);
  }
  return static_cast<int>(kStageOrder.size());
}

std::string Text(const Json& value) { return CellText(value); }

}  // namespace

bool IsEuMember(const std::string& country) {
  static const std::set<std::string> kMembers = {
      "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
      "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
  return kMembers.count(country) > 0;
}

Result<std::vector<PeriodLot>> PeriodLots(const FetchedLog& log, const std::string& participant,
                                          int64_t from_us, int64_t to_us) {
  std::vector<PeriodLot> lots;
  for (size_t i = 0; i < log.entries.size(); ++i) {
    auto decoded = DecodeEntry(log.entries[i]);
    if (!decoded.ok()) {
      return DataLoss("entry " + std::to_string(i) + " of log " + log.log_id +
                      " does not decode: " + decoded.status().message());
    }
    const cairn::v1::EventBody& body = decoded->body;
    if (body.author() != participant) continue;
    const int64_t at = ToMicros(body.occurred_at());
    if (at < from_us || at >= to_us) continue;
    auto add = [&](const std::string& lot, const char* role, uint64_t mass_g) {
      lots.push_back({lot, role, at, mass_g, decoded->event_id});
    };
    if (body.has_receipt()) {
      for (const auto& l : body.receipt().lots()) add(l.lot_id(), "received", l.mass_g());
    } else if (body.has_extraction()) {
      add(body.extraction().lot_id(), "produced", body.extraction().mass_g());
    } else if (body.has_transformation()) {
      for (const auto& out : body.transformation().outputs()) {
        add(out.lot_id(), "produced", out.mass_g());
      }
    }
  }
  return lots;
}

PeriodReport::PeriodReport(const keys::TrustRegistry& registry, const std::string& participant,
                           const std::string& from, const std::string& to)
    : registry_(registry), participant_(participant), from_(from), to_(to) {}

void PeriodReport::Add(const PeriodLot& lot, const LineageInput& input,
                       const ledger::LineageReport& verified) {
  const int code = verified.ExitCode();
  codes_.push_back(code);
  const ledger::LineageGraph& graph = verified.graph;
  std::string material;
  std::map<std::string, uint32_t> ppm;
  if (verified.target >= 0) {
    material = graph.lot(verified.target).material;
    ppm = graph.lot(verified.target).composition_ppm;
  }
  const ledger::Policy* policy = input.policy ? &*input.policy : nullptr;
  Json origin = Json::object();
  if (verified.attribution) {
    const ledger::Attribution& a = *verified.attribution;
    for (const auto& [country, share] : a.mass.by_country) origin[country] = share;
    if (a.mass.unknown > 0) origin["unknown"] = a.mass.unknown;
    // The facilities' stages on this lineage.
    std::map<std::string, std::set<std::string>> stages;
    for (const ledger::LineageEvent& event : graph.events()) {
      if (!event.body.has_transformation()) continue;
      const auto& t = event.body.transformation();
      stages[t.facility().id()].insert(StageName(t.stage()));
    }
    for (const auto& [element, shares] : a.by_element) {
      const auto it = ppm.find(element);
      if (it == ppm.end()) continue;
      const double element_g = static_cast<double>(lot.mass_g) * it->second / 1e6;
      element_g_[lot.role][element] += element_g;
      auto& by_stage = by_stage_[lot.role][element];
      for (const auto& [country, share] : shares.by_country) {
        by_stage["mined"][country] += element_g * share;
      }
      if (shares.unknown > 0) by_stage["mined"]["unknown"] += element_g * shares.unknown;
      std::map<std::string, std::map<std::string, double>> processed;  // stage -> country
      for (const auto& [facility, share] : shares.by_facility) {
        const auto place = a.facilities.find(facility);
        const std::string country = place == a.facilities.end() ? "" : place->second.country;
        for (const std::string& stage : stages[facility]) {
          double& s = processed[stage][country.empty() ? "unknown" : country];
          s = std::min(1.0, s + share);
        }
      }
      for (const auto& [stage, countries] : processed) {
        for (const auto& [country, share] : countries) {
          by_stage[stage][country] += element_g * share;
        }
      }
    }
  }
  lots_.push_back({{"lot_id", lot.lot_id},
                   {"role", lot.role},
                   {"at_us", lot.at_us},
                   {"date", Date(lot.at_us)},
                   {"mass_g", lot.mass_g},
                   {"material", material},
                   {"verdict", Verdict(code)},
                   {"exit_code", code},
                   {"headline", Headline(verified, policy, Date(input.as_of_us))},
                   {"origin_by_country", origin},
                   {"bundle_sha256", input.bundle_sha256},
                   {"event_id", lot.event_id}});
}

void PeriodReport::AddUnavailable(const PeriodLot& lot, const Status& status) {
  const int code = status.code() == StatusCode::kDataLoss ? kExitIntegrity : kExitIncomplete;
  codes_.push_back(code);
  lots_.push_back({{"lot_id", lot.lot_id},
                   {"role", lot.role},
                   {"at_us", lot.at_us},
                   {"date", Date(lot.at_us)},
                   {"mass_g", lot.mass_g},
                   {"material", ""},
                   {"verdict", Verdict(code)},
                   {"exit_code", code},
                   {"headline", std::string(Verdict(code)) + ": lot " + lot.lot_id +
                                    " — its lineage could not be checked: " + status.ToString()},
                   {"origin_by_country", Json::object()},
                   {"bundle_sha256", ""},
                   {"event_id", lot.event_id}});
}

int PeriodReport::ExitCode() const {
  for (const int code : {kExitIntegrity, kExitRestricted, kExitIncomplete}) {
    if (std::find(codes_.begin(), codes_.end(), code) != codes_.end()) return code;
  }
  return kExitOk;
}

Json PeriodReport::Build(const FetchedLog& listing, const ledger::Policy* policy,
                         const std::string& policy_sha256, int64_t as_of_us,
                         int64_t generated_at_us) const {
  const int code = ExitCode();
  std::map<std::string, int> by_role, by_verdict;
  std::map<std::string, uint64_t> mass_by_role;
  for (const Json& lot : lots_) {
    ++by_role[lot["role"].get<std::string>()];
    ++by_verdict[lot["verdict"].get<std::string>()];
    mass_by_role[lot["role"].get<std::string>()] += lot["mass_g"].get<uint64_t>();
  }
  const cairn::v1::Participant* who = registry_.FindParticipant(participant_);
  std::string headline =
      fmt::format("{}: {} ({}), {} to {} — {} lot(s) received ({}), {} produced ({})",
                  Verdict(code), participant_, who ? who->legal_name() : "", from_, to_,
                  by_role["received"], FormatMass(mass_by_role["received"]), by_role["produced"],
                  FormatMass(mass_by_role["produced"]));
  std::string counts;
  for (const auto& [verdict, n] : by_verdict) {
    counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + verdict;
  }
  if (!counts.empty()) headline += "; " + counts;
  if (policy != nullptr) headline += "; policy " + policy->name + " as of " + Date(as_of_us);

  cairn::v1::Checkpoint checkpoint;
  checkpoint.ParseFromString(listing.checkpoint.checkpoint());
  Json report;
  report["report"] = {{"kind", "period"},
                      {"generated_at", FormatTime(generated_at_us)},
                      {"tool", std::string("cairn ") + CAIRN_VERSION}};
  report["verdict"] = {{"verdict", Verdict(code)}, {"exit_code", code}, {"headline", headline}};
  report["subject"] = {{"participant", participant_},
                       {"name", who ? who->legal_name() : ""},
                       {"country", who ? who->country() : ""},
                       {"from", from_},
                       {"to", to_}};
  report["checked"] = {
      {"as_of", Date(as_of_us)},
      {"home_log",
       {{"log_id", checkpoint.log_id()},
        {"size", checkpoint.size()},
        {"root_hash", ToHex(checkpoint.root_hash())},
        {"timestamp", FormatTime(ToMicros(checkpoint.timestamp()))}}},
      {"registry",
       {{"consortium", registry_.registry().consortium()}, {"version", registry_.version()}}},
      {"policy", policy == nullptr ? Json(nullptr)
                                   : Json({{"name", policy->name}, {"sha256", policy_sha256}})},
      {"lots", static_cast<uint64_t>(lots_.size())}};
  // In the order they were received or produced (Add is called lot by lot).
  Json lots = lots_;
  std::stable_sort(lots.begin(), lots.end(), [](const Json& x, const Json& y) {
    return x["at_us"].get<int64_t>() < y["at_us"].get<int64_t>();
  });
  for (Json& lot : lots) lot.erase("at_us");
  report["lots"] = std::move(lots);
  Json portfolio = Json::array();
  for (const auto& [basis, elements] : by_stage_) {
    for (const auto& [element, stages] : elements) {
      const double total = element_g_.at(basis).at(element);
      std::vector<std::pair<std::string, const std::map<std::string, double>*>> ordered;
      for (const auto& [stage, countries] : stages) ordered.emplace_back(stage, &countries);
      std::sort(ordered.begin(), ordered.end(), [](const auto& x, const auto& y) {
        return StageRank(x.first) < StageRank(y.first);
      });
      for (const auto& [stage, countries] : ordered) {
        std::vector<std::pair<std::string, double>> rows(countries->begin(), countries->end());
        std::sort(rows.begin(), rows.end(),
                  [](const auto& x, const auto& y) { return x.second > y.second; });
        for (const auto& [country, grams] : rows) {
          const double share = total > 0 ? grams / total : 0;
          const bool third = country != "unknown" && !IsEuMember(country);
          portfolio.push_back(
              {{"basis", basis},
               {"element", element},
               {"stage", stage},
               {"country", country},
               {"share", share},
               {"mass_kg", grams / 1000.0},
               {"third_country", third},
               {"above_crma_benchmark", third && share > kCrmaSingleCountryBenchmark + 1e-12}});
        }
      }
    }
  }
  report["portfolio"] = portfolio;
  report["crma_benchmark"] = kCrmaSingleCountryBenchmark;
  return report;
}

std::vector<Table> PeriodTables(const Json& r) {
  std::vector<Table> tables;
  {
    Table t{"summary", "Summary", {"item", "value"}, {}};
    auto add = [&t](const std::string& item, const std::string& value) {
      t.rows.push_back({item, value});
    };
    const Json& checked = r["checked"];
    add("verdict", Text(r["verdict"]["verdict"]));
    add("headline", Text(r["verdict"]["headline"]));
    add("exit code", Text(r["verdict"]["exit_code"]));
    add("participant", Text(r["subject"]["participant"]) + " " + Text(r["subject"]["name"]) + " (" +
                           Text(r["subject"]["country"]) + ")");
    add("period", Text(r["subject"]["from"]) + " to " + Text(r["subject"]["to"]));
    add("as of", Text(checked["as_of"]));
    add("lots", Text(checked["lots"]));
    add("home log",
        fmt::format("{} size {} root {} signed {}", Text(checked["home_log"]["log_id"]),
                    Text(checked["home_log"]["size"]), Text(checked["home_log"]["root_hash"]),
                    Text(checked["home_log"]["timestamp"])));
    AddRegistryAndPolicyRows(checked, t);
    add("CRMA benchmark", fmt::format("at most {:.0f}% of an element from a single third country "
                                      "at any stage (Regulation (EU) 2024/1252, Art. 5)",
                                      r["crma_benchmark"].get<double>() * 100));
    add("generated at", Text(r["report"]["generated_at"]));
    add("generated by", Text(r["report"]["tool"]));
    tables.push_back(std::move(t));
  }
  {
    Table t{"lots",
            "Lots received and produced in the period",
            {"date", "role", "lot", "material", "mass (kg)", "verdict", "mined in", "finding",
             "event id"},
            {}};
    for (const auto& l : r["lots"]) {
      std::string origin;
      for (const auto& [country, share] : l["origin_by_country"].items()) {
        origin += (origin.empty() ? "" : ", ") + country + " " + Percent(share.get<double>());
      }
      t.rows.push_back({Text(l["date"]), Text(l["role"]), Text(l["lot_id"]), Text(l["material"]),
                        fmt::format("{:.3f}", l["mass_g"].get<uint64_t>() / 1000.0),
                        Text(l["verdict"]), origin,
                        l["exit_code"].get<int>() == 0 ? "" : Text(l["headline"]),
                        Text(l["event_id"]).substr(0, 16)});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"portfolio",
            "Portfolio: share of each element by country, per stage (CRMA 65% benchmark)",
            {"basis", "element", "stage", "country", "share", "mass (kg)", "third country",
             "above the 65% benchmark"},
            {}};
    for (const auto& p : r["portfolio"]) {
      t.rows.push_back({Text(p["basis"]), Text(p["element"]), Text(p["stage"]), Text(p["country"]),
                        fmt::format("{:.2f}%", p["share"].get<double>() * 100),
                        fmt::format("{:.3f}", p["mass_kg"].get<double>()),
                        p["third_country"].get<bool>() ? "yes" : "no",
                        p["above_crma_benchmark"].get<bool>() ? "YES" : "no"});
    }
    tables.push_back(std::move(t));
  }
  return tables;
}

}  // namespace cairn::client::report
