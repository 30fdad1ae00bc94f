// The report's tables, and the Markdown and CSV forms of them.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "client/format.h"
#include "client/report/period.h"
#include "client/report/report.h"

namespace cairn::client::report {
namespace {

std::string Text(const Json& value) { return CellText(value); }

std::string Kg(const Json& grams) { return fmt::format("{:.3f}", grams.get<double>() / 1000.0); }

std::string KgValue(const Json& kg) { return fmt::format("{:.3f}", kg.get<double>()); }

std::string Share(const Json& share) { return fmt::format("{:.2f}%", share.get<double>() * 100); }

std::string Lots(const Json& lots) {
  std::string out;
  for (const auto& l : lots) {
    if (!out.empty()) out += "; ";
    out += l["lot_id"].get<std::string>();
    if (l["mass_g"].get<uint64_t>() > 0) out += " " + FormatMass(l["mass_g"].get<uint64_t>());
  }
  return out;
}

std::string Joined(const Json& items, const char* separator = " ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += separator;
    out += Text(i);
  }
  return out;
}

// "AUDIT by au-assay-lab 2026-…: RMAP conformant [doc sha256 …]" per attestation.
std::string Attestations(const Json& attestations) {
  std::string out;
  for (const auto& a : attestations) {
    std::string one = fmt::format("{} by {} on {}: {}", Text(a["kind"]), Text(a["by"]),
                                  Text(a["date"]).substr(0, 10), Text(a["result"]));
    for (const auto& d : a["documents"]) {
      one += fmt::format(" [{} {} sha256 {}]", Text(d["kind"]), Text(d["uri"]), Text(d["sha256"]));
    }
    out += (out.empty() ? "" : "; ") + one;
  }
  return out;
}

std::string Documents(const Json& documents) {
  std::string out;
  for (const auto& d : documents) {
    out += (out.empty() ? "" : "; ") +
           fmt::format("{} {} sha256 {}", Text(d["kind"]), Text(d["uri"]), Text(d["sha256"]));
  }
  return out;
}

// Markdown inline text: no line breaks, and | < > & ` * _ [ ] \ cannot end a cell or start
// markup.
std::string MarkdownCell(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\n':
      case '\r':
        out += ' ';
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '|':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '\\':
      case '#':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool LooksNumeric(const std::string& s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!(std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) return false;
  }
  return true;
}

}  // namespace

std::string CellText(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

void AddRegistryAndPolicyRows(const Json& checked, Table& summary) {
  auto add = [&summary](const std::string& item, const std::string& value) {
    summary.rows.push_back({item, value});
  };
  add("registry", CellText(checked["registry"]["consortium"]) + " version " +
                      CellText(checked["registry"]["version"]));
  if (checked["policy"].is_null()) {
    add("policy", "none (no restricted-source screening)");
  } else {
    add("policy", CellText(checked["policy"]["name"]));
    add("policy SHA-256", CellText(checked["policy"]["sha256"]));
  }
}

std::string ReportTitle(const Json& r) {
  if (Text(r["report"]["kind"]) == "period") {
    const Json& who = r["subject"];
    return fmt::format("Sourcing report: {} ({}), {} to {}", Text(who["name"]),
                       Text(who["participant"]), Text(who["from"]), Text(who["to"]));
  }
  return "Provenance report: lot " + Text(r["subject"]["lot_id"]);
}

std::vector<Table> ReportTables(const Json& r) {
  if (Text(r["report"]["kind"]) == "period") return PeriodTables(r);
  std::vector<Table> tables;
  const Json& checked = r["checked"];
  {
    Table t{"summary", "Summary", {"item", "value"}, {}};
    auto add = [&t](const std::string& item, const std::string& value) {
      t.rows.push_back({item, value});
    };
    add("verdict", Text(r["verdict"]["verdict"]));
    add("headline", Text(r["verdict"]["headline"]));
    add("exit code", Text(r["verdict"]["exit_code"]));
    add("lot", Text(r["subject"]["lot_id"]));
    add("material", Text(r["subject"]["material"]));
    add("mass (kg)", Kg(r["subject"]["mass_g"]));
    add("direction", Text(r["subject"]["direction"]));
    add("as of", Text(checked["as_of"]));
    add("events checked (signature and inclusion proof each)", Text(checked["events"]));
    add("lots on the lineage", Text(checked["lots"]));
    add("logs", Text(checked["logs"]));
    AddRegistryAndPolicyRows(checked, t);
    add("evidence from", Text(checked["evidence_from"]));
    add("bundle SHA-256", Text(checked["bundle_sha256"]));
    for (const auto& a : r["audits"]) {
      add("audited", fmt::format("lot {} by {} on {}: {}", Text(a["lot_id"]), Text(a["by"]),
                                 Text(a["date"]), Text(a["result"])));
    }
    for (const auto& c : r["report_checks"]) {
      add("report file checked",
          c["matches"].get<bool>()
              ? fmt::format("{} (SHA-256 {}) is the report {} attested on {}", Text(c["path"]),
                            Text(c["sha256"]), Text(c["audit"]["by"]), Text(c["audit"]["date"]))
              : fmt::format("{} (SHA-256 {}) matches no audit of this lot", Text(c["path"]),
                            Text(c["sha256"])));
    }
    add("generated at", Text(r["report"]["generated_at"]));
    add("generated by", Text(r["report"]["tool"]));
    tables.push_back(std::move(t));
  }
  {
    Table t{"checkpoints",
            "Signed checkpoints the proofs were checked against",
            {"log", "size", "root hash", "key id", "signed at"},
            {}};
    for (const auto& c : checked["checkpoints"]) {
      t.rows.push_back({Text(c["log_id"]), Text(c["size"]), Text(c["root_hash"]), Text(c["key_id"]),
                        Text(c["timestamp"])});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"audits",
            "Audits of this lot and the lots it was made from, on the ledger",
            {"lot", "auditor", "date", "result", "policy", "policy SHA-256",
             "same policy as this report", "report", "report SHA-256", "evidence bundle SHA-256",
             "event id"},
            {}};
    for (const auto& a : r["audits"]) {
      t.rows.push_back(
          {Text(a["lot_id"]), Text(a["by"]), Text(a["date"]), Text(a["result"]), Text(a["policy"]),
           Text(a["policy_sha256"]),
           a.contains("same_policy") ? (a["same_policy"].get<bool>() ? "yes" : "no") : "",
           Text(a["report"]), Text(a["report_sha256"]), Text(a["bundle_sha256"]),
           Text(a["event_id"])});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"origin",
            "Origin of the lot's mass (mined in; processed at: share passing through)",
            {"by", "id", "name", "country", "share", "mass (kg)"},
            {}};
    for (const auto& row : r["origin"]["mass"]) {
      t.rows.push_back({Text(row["dimension"]), Text(row["key"]), Text(row["name"]),
                        Text(row["country"]), Share(row["share"]), KgValue(row["mass_kg"])});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"elements",
            "Origin of each element by country of extraction",
            {"element", "country", "share", "mass (kg)"},
            {}};
    for (const auto& row : r["origin"]["elements"]) {
      t.rows.push_back(
          {Text(row["element"]), Text(row["key"]), Share(row["share"]), KgValue(row["mass_kg"])});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"sites",
            "Mine sites",
            {"site id", "name", "country", "region", "operator", "lot", "mass (kg)", "mined on",
             "documents", "attestations", "event id"},
            {}};
    for (const auto& s : r["sites"]) {
      t.rows.push_back({Text(s["site_id"]), Text(s["name"]), Text(s["country"]), Text(s["region"]),
                        Text(s["operator"]), Text(s["lot_id"]), Kg(s["mass_g"]),
                        Text(s["date"]).substr(0, 10), Documents(s["documents"]),
                        Attestations(s["attestations"]), Text(s["event_id"])});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"facilities",
            "Processing facilities (smelter and refiner list, EMRT/AMRT shape)",
            {"facility id", "name", "country", "region", "process step", "operator",
             "transformations", "input (kg)", "output (kg)", "first", "last", "attestations"},
            {}};
    for (const auto& f : r["facilities"]) {
      t.rows.push_back({Text(f["facility_id"]), Text(f["name"]), Text(f["country"]),
                        Text(f["region"]), Text(f["process_step"]), Text(f["operator"]),
                        Text(f["transformations"]), Kg(f["input_g"]), Kg(f["output_g"]),
                        Text(f["first_date"]).substr(0, 10), Text(f["last_date"]).substr(0, 10),
                        Attestations(f["attestations"])});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"custody",
            "Chain of custody",
            {"date", "kind", "participant", "counterparty", "lots", "transport", "export permit",
             "customs declaration", "HS code", "notes", "event id", "log", "index"},
            {}};
    for (const auto& c : r["custody"]) {
      t.rows.push_back({Text(c["date"]), Text(c["kind"]), Text(c["participant"]),
                        Text(c["counterparty"]), Lots(c["lots"]), Text(c["transport"]),
                        Text(c["export_permit"]), Text(c["customs_declaration"]),
                        Text(c["hs_code"]), Text(c["notes"]), Text(c["event_id"]).substr(0, 16),
                        Text(c["log_id"]), Text(c["index"])});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"transit_losses",
            "Transit losses",
            {"lot", "from", "to", "dispatched (kg)", "received (kg)", "lost (kg)", "lost",
             "dispatch", "receipt"},
            {}};
    for (const auto& l : r["transit_losses"]) {
      t.rows.push_back({Text(l["lot_id"]), Text(l["from"]), Text(l["to"]), Kg(l["dispatched_g"]),
                        Kg(l["received_g"]), Kg(l["lost_g"]), Share(l["lost_share"]),
                        Text(l["dispatch_event_id"]).substr(0, 16),
                        Text(l["receipt_event_id"]).substr(0, 16)});
    }
    tables.push_back(std::move(t));
  }
  {
    Table t{"findings",
            "Findings",
            {"kind", "severity", "check", "lot", "finding", "OECD Annex II red flag", "event ids"},
            {}};
    for (const auto& group : r["findings"]) {
      for (const auto& f : group["items"]) {
        t.rows.push_back({Text(group["kind"]), Text(f["severity"]), Text(f["check"]),
                          Text(f["lot_id"]), Text(f["message"]), Text(f["red_flag"]),
                          Joined(f["event_ids"])});
      }
    }
    tables.push_back(std::move(t));
  }
  return tables;
}

std::string RenderMarkdown(const Json& r) {
  // The headline starts with the verdict: "VERIFIED: lot …".
  const std::string verdict = Text(r["verdict"]["verdict"]);
  const std::string headline = Text(r["verdict"]["headline"]);
  std::string out =
      fmt::format("# {}\n\n**{}**{}\n", MarkdownCell(ReportTitle(r)), verdict,
                  MarkdownCell(headline.substr(std::min(verdict.size(), headline.size()))));
  for (const Table& t : ReportTables(r)) {
    out += "\n## " + t.title + "\n\n";
    if (t.rows.empty()) {
      out += "None.\n";
      continue;
    }
    std::string header = "|";
    std::string rule = "|";
    for (const auto& c : t.columns) {
      header.append(" ").append(MarkdownCell(c)).append(" |");
      rule += " --- |";
    }
    out.append(header).append("\n").append(rule).append("\n");
    for (const auto& row : t.rows) {
      out += "|";
      for (const auto& cell : row) out.append(" ").append(MarkdownCell(cell)).append(" |");
      out += "\n";
    }
  }
  out += fmt::format("\n---\nGenerated by {} at {}. ", MarkdownCell(Text(r["report"]["tool"])),
                     MarkdownCell(Text(r["report"]["generated_at"])));
  if (Text(r["report"]["kind"]) == "period") {
    out += "Each lot's lineage verifies again: `cairn verify --lot LOT --registry REGISTRY`.\n";
  } else {
    out += fmt::format(
        "The evidence bundle (SHA-256 {}) verifies offline: `cairn verify --bundle FILE "
        "--registry REGISTRY`.\n",
        MarkdownCell(Text(r["checked"]["bundle_sha256"])));
  }
  return out;
}

std::string RenderCsv(const Table& table) {
  auto field = [](const std::string& value) {
    std::string v = value;
    if (!v.empty() &&
        (v[0] == '=' || v[0] == '+' || v[0] == '@' || (v[0] == '-' && !LooksNumeric(v)))) {
      v = "'" + v;
    }
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string quoted = "\"";
    for (char c : v) {
      if (c == '"') quoted += '"';
      quoted += c;
    }
    return quoted + "\"";
  };
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + field(cells[i]);
    out += "\r\n";
  };
  line(table.columns);
  for (const auto& row : table.rows) line(row);
  return out;
}

}  // namespace cairn::client::report
