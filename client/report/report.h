// cairn report: a lineage verification written up as a document a compliance officer can file.
//
// BuildLotReport turns the verified lineage into one data model (JSON); every format renders that
// model, so json, md and csv say the same things:
//  - the verdict, and what was checked: events, signatures, inclusion proofs, each log's signed
//    checkpoint (log id, size, root hash, key), the registry version, the policy's name and
//    SHA-256, the bundle's SHA-256, the as-of date, when and by which tool it was generated;
//  - origin shares of the lot's mass by country, region, site and mine, with kilograms, and of
//    each element it declares;
//  - mine sites and processing facilities in the shape of RMI's EMRT/AMRT smelter list (id,
//    name, country, process step, operator, attestations with their documents' hashes);
//  - the chain-of-custody timeline (date, kind, participant, lots and masses, transport,
//    permits, HS code, event id); transit losses;
//  - the audits of the lot on the ledger (client/audit.h): by whom, when, the verdict, the
//    policy and report hashes attested, and report files checked against them;
//  - findings grouped by kind (integrity, custody, mass balance, restricted source, transit loss,
//    incomplete, note) with the OECD Annex II red-flag category where one fits and the event ids
//    that prove each.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/lineage_audit.h"
#include "ledger/lineage_verifier.h"

namespace cairn::client::report {

using Json = nlohmann::ordered_json;

// The report of one lot's verified lineage, generated at `generated_at_us`.
Json BuildLotReport(const LineageInput& input, const ledger::LineageReport& verified,
                    int64_t generated_at_us);

// A table of the report, as csv writes one file and md one table.
struct Table {
  std::string name;   // file stem: "origin" -> origin.csv
  std::string title;  // "Origin of the lot's mass"
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

// A table cell's text: a string as it is, null as "", anything else as its JSON.
std::string CellText(const Json& value);

// The summary rows of the registry and the policy a report checked against (`checked` is the
// report's "checked" object).
void AddRegistryAndPolicyRows(const Json& checked, Table& summary);

// The report's tables, in reading order (a period report's: PeriodTables): summary, checkpoints,
// audits, origin, elements, sites, facilities, custody, transit_losses, findings.
std::vector<Table> ReportTables(const Json& report);

// "Provenance report: lot X", or for a period report (period.h) "Sourcing report: NAME (ID), FROM
// to TO".
std::string ReportTitle(const Json& report);

// Markdown: the verdict first, then each table; text from events is escaped so it cannot break
// out of its cell or inject markup.
std::string RenderMarkdown(const Json& report);

// One RFC 4180 CSV document (CRLF line ends, fields quoted when they hold a comma, quote or line
// break; UTF-8). A text cell starting with = + - @ is prefixed with ' so a spreadsheet does not
// run it as a formula.
std::string RenderCsv(const Table& table);

// HTML: one self-contained, printable file with every table and, for a lot's report
// (`verified` set), the provenance graph as inline SVG (provenance_graph.h). INTERNAL when
// Graphviz cannot draw.
Result<std::string> RenderHtml(const Json& report, const ledger::LineageReport* verified);

}  // namespace cairn::client::report
