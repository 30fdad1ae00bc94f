// cairn report --participant ID --from DATE --to DATE: the annual declaration a customer asks
// for. Every lot the participant received (its receipts) or produced (its extractions and
// transformation outputs) in the period, read from its home log — the whole log, checked to hash
// to the log's signed checkpoint, so no lot can be left out of the listing unseen — and each
// lot's lineage verified as `cairn verify --lot` does.
//
// The portfolio view: for each element, the share of the period's mass (received, and produced,
// each weighted by the mass received or produced) by country of extraction (stage mined) and by
// country of each processing stage (refined, separated, melted, produced, blended: the country of
// the facility the material passed through at that stage), with the EU Critical Raw Materials
// Act's benchmark — no more than 65% of a strategic raw material from a single third country at
// any stage — checked per stage. A facility's stage is the stage of its transformations on the
// lot's lineage; a share passing through two facilities of one country at one stage counts once
// per facility, capped at 100%.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/lineage_audit.h"
#include "client/report/report.h"
#include "client/verify.h"
#include "keys/registry.h"

namespace cairn::client::report {

// The CRMA's single-third-country benchmark (Regulation (EU) 2024/1252, Art. 5(1)(b)).
inline constexpr double kCrmaSingleCountryBenchmark = 0.65;

// A lot the participant received or produced in the period.
struct PeriodLot {
  std::string lot_id;
  std::string role;  // "received" or "produced"
  int64_t at_us = 0;
  uint64_t mass_g = 0;  // received, or produced
  std::string event_id;
};

// The participant's receipts and productions in [from_us, to_us) among `log`'s entries, in log
// order. DATA_LOSS for an entry that does not decode.
Result<std::vector<PeriodLot>> PeriodLots(const FetchedLog& log, const std::string& participant,
                                          int64_t from_us, int64_t to_us);

// True when `country` (ISO 3166-1 alpha-2) is an EU member state: not a third country under the
// CRMA.
bool IsEuMember(const std::string& country);

// Folds verified lots into the period report.
class PeriodReport {
 public:
  PeriodReport(const keys::TrustRegistry& registry, const std::string& participant,
               const std::string& from, const std::string& to);

  // One lot of the period with its verified lineage (`input` is what GatherLineage gave for it).
  void Add(const PeriodLot& lot, const LineageInput& input, const ledger::LineageReport& verified);
  // A lot whose lineage could not be fetched or read (`status`): counted incomplete.
  void AddUnavailable(const PeriodLot& lot, const Status& status);

  // 0, 1, 3, 4 as verify: the first of 1, 3, 4 among the lots wins.
  int ExitCode() const;

  // The report's data; `listing` is the home log as read, `policy` and its hash may be empty.
  Json Build(const FetchedLog& listing, const ledger::Policy* policy,
             const std::string& policy_sha256, int64_t as_of_us, int64_t generated_at_us) const;

 private:
  const keys::TrustRegistry& registry_;
  std::string participant_, from_, to_;
  Json lots_ = Json::array();
  std::vector<int> codes_;
  // basis -> element -> stage -> country -> grams of the element; and basis -> element -> grams.
  std::map<std::string, std::map<std::string, std::map<std::string, std::map<std::string, double>>>>
      by_stage_;
  std::map<std::string, std::map<std::string, double>> element_g_;
};

// The period report's tables: summary, lots, portfolio.
std::vector<Table> PeriodTables(const Json& report);

}  // namespace cairn::client::report
