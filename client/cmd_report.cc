// cairn report: verifies a lot's lineage as `cairn verify --lot/--bundle` does and writes the
// result up as a document (client/report/): JSON, Markdown, HTML, PDF, or one CSV file per table.
// With --attest the auditor's conclusion goes back onto the ledger (client/audit.h).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <system_error>

#include "client/audit.h"
#include "client/command.h"
#include "client/lineage_audit.h"
#include "client/node_client.h"
#include "client/report/pdf.h"
#include "client/report/period.h"
#include "client/report/report.h"
#include "client/verify.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "ledger/event.h"
#include "ledger/policy.h"

namespace cairn::client {
namespace {

struct ReportOptions {
  LineageSource source;
  std::string format = "md";
  std::string output = "-";
  bool force = false;
  unsigned threads = 0;
  int pdf_timeout = 120;
  std::string participant;      // a period report (report/period.h) of this participant
  std::string from, to;         // its period, YYYY-MM-DD, both days included
  bool attest = false;          // append the audit attestation (client/audit.h)
  std::string key_file;         // the auditor's key, with --attest
  std::string passphrase_file;  // of a sealed key file
};

// The auditor's key, read before any work so a wrong key or passphrase changes nothing.
Result<keys::SigningKey> AuditorKey(const ReportOptions& opt) {
  if (opt.key_file.empty()) {
    return InvalidArgument("--attest signs the audit: give the auditor's --key FILE");
  }
  if (opt.format == "csv") {
    return InvalidArgument(
        "--attest attests one document: choose --format md, html, json or "
        "pdf (csv is a directory of tables)");
  }
  std::optional<std::string> passphrase;
  if (!opt.passphrase_file.empty()) {
    CAIRN_ASSIGN_OR_RETURN(passphrase, keys::ReadPassphraseFile(opt.passphrase_file));
  }
  return keys::ReadSigningKey(opt.key_file, passphrase);
}

// Appends the audit attestation of the report whose bytes are `document` and says so.
int Attest(const ReportOptions& opt, const keys::SigningKey& key, const LineageInput& input,
           int code, const std::string& document) {
  const std::string name =
      opt.output == "-" ? "" : std::filesystem::path(opt.output).filename().string();
  cairn::v1::EventBody body = AuditBody(input, code, name, ToHex(Sha256(document)));
  body.set_author(key.participant);
  *body.mutable_occurred_at() = FromMicros(SystemClock().NowMicros());
  std::string bytes;
  body.SerializeToString(&bytes);
  cairn::v1::AppendRequest request;
  *request.mutable_event() = ledger::SignEvent(bytes, key.key_id, key.secret_key);
  cairn::v1::AppendResponse response;
  NodeClient client(opt.source.node);
  const Status s = client.Call(&cairn::v1::Ledger::Stub::Append, request, &response);
  if (!s.ok()) {
    return ReportError("report", s.WithPrefix("the report is written but not attested: the "
                                              "node refused the audit"));
  }
  cairn::v1::Checkpoint checkpoint;
  checkpoint.ParseFromString(response.checkpoint().checkpoint());
  (opt.output == "-" ? std::cerr : std::cout)
      << "attested: " << key.participant << "'s audit of lot " << input.bundle.lot_id() << " ("
      << body.attestation().result() << ", report sha256 "
      << body.attestation().documents(0).sha256() << ") appended as event " << response.event_id()
      << ", entry " << response.index() << " of log " << checkpoint.log_id() << "\n";
  return code;
}

// One CSV file per table in directory `dir` (made when missing).
Status WriteCsvTables(const std::string& dir, const report::Json& model, bool force) {
  if (dir == "-") {
    return InvalidArgument("--format csv writes one file per table: give -o DIRECTORY");
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Internal("cannot create directory " + dir + ": " + error.message());
  for (const report::Table& table : report::ReportTables(model)) {
    CAIRN_RETURN_IF_ERROR(
        WriteOutputFile((std::filesystem::path(dir) / (table.name + ".csv")).string(),
                        report::RenderCsv(table), force));
  }
  return Status::Ok();
}

// The HTML report printed by headless Chromium (client/report/pdf.h).
Result<std::string> PrintPdf(const ReportOptions& opt, const std::string& html) {
  CAIRN_ASSIGN_OR_RETURN(const std::string browser, report::FindChromium());
  std::cerr << "printing the report to PDF with " << browser << "\n";
  return report::PrintToPdf(browser, html, opt.pdf_timeout);
}

// Writes `model` in opt.format to opt.output; `verified` draws a lot report's graph. `document`
// receives what was written (not for csv).
Status WriteReport(const ReportOptions& opt, const report::Json& model,
                   const ledger::LineageReport* verified, std::string* document) {
  if (opt.format == "csv") return WriteCsvTables(opt.output, model, opt.force);
  std::string text;
  if (opt.format == "html" || opt.format == "pdf") {
    CAIRN_ASSIGN_OR_RETURN(text, report::RenderHtml(model, verified));
    if (opt.format == "pdf") {
      CAIRN_ASSIGN_OR_RETURN(text, PrintPdf(opt, text));
    }
  } else {
    text = opt.format == "json" ? model.dump(2) + "\n" : report::RenderMarkdown(model);
  }
  CAIRN_RETURN_IF_ERROR(WriteOutputFile(opt.output, text, opt.force));
  *document = std::move(text);
  return Status::Ok();
}

// The verdict on stderr when the document went to stdout, else on stdout.
void SayWritten(const ReportOptions& opt, const report::Json& model) {
  (opt.output == "-" ? std::cerr : std::cout)
      << model["verdict"]["headline"].get<std::string>()
      << (opt.output == "-" ? "" : "\nwrote the " + opt.format + " report to " + opt.output)
      << "\n";
}

Result<int64_t> ParseDay(const std::string& flag, const std::string& text) {
  const auto day = ledger::ParseIsoDateUs(text);
  if (!day) return InvalidArgument(flag + ": got \"" + text + "\", want a date YYYY-MM-DD");
  return *day;
}

// --participant: every lot the participant received or produced in the period, from its home
// log as the node holds it, each lot's lineage verified.
int RunPeriod(const ReportOptions& opt) {
  if (!opt.source.lot.empty() || !opt.source.bundle.empty() || opt.attest || opt.source.forward ||
      !opt.source.check_reports.empty()) {
    return ReportError("report",
                       InvalidArgument("--participant reports on a period: it goes "
                                       "with --from and --to, not with --lot, "
                                       "--bundle, --forward, --attest or --check-report"));
  }
  if (opt.from.empty() || opt.to.empty()) {
    return ReportError("report",
                       InvalidArgument("--participant needs the period: --from "
                                       "YYYY-MM-DD --to YYYY-MM-DD (both days included)"));
  }
  auto from = ParseDay("--from", opt.from);
  if (!from.ok()) return ReportError("report", from.status());
  auto to = ParseDay("--to", opt.to);
  if (!to.ok()) return ReportError("report", to.status());
  if (*to < *from) {
    return ReportError("report",
                       InvalidArgument("--to " + opt.to + " is before --from " + opt.from));
  }
  auto base = LoadAuditorInputs(opt.source);
  if (!base.ok()) return ReportError("report", base.status());
  const keys::TrustRegistry& registry = *base->registry;
  if (registry.FindParticipant(opt.participant) == nullptr) {
    return ReportError("report", InvalidArgument("--participant: " + opt.participant +
                                                 " is not in the registry " + opt.source.registry));
  }
  // A registry that names no home log for the participant (one node hosting everyone, as before
  // federation): the node's own log.
  const std::string* home = registry.HomeLogOf(opt.participant);
  NodeClient client(opt.source.node);
  auto log = FetchWholeLog(client, registry, home ? *home : "", opt.source.node);
  if (!log.ok()) {
    return ReportError("report",
                       log.status().WithPrefix("home log " + (home ? *home : "(the node's own)") +
                                               " of " + opt.participant));
  }
  constexpr int64_t kDayUs = 86'400'000'000LL;
  auto lots = report::PeriodLots(*log, opt.participant, *from, *to + kDayUs);
  if (!lots.ok()) return ReportError("report", lots.status());
  report::PeriodReport period(registry, opt.participant, opt.from, opt.to);
  LineageInput input = *std::move(base);
  // A lot received in several shipments, or received and produced, is verified once, with all
  // its rows; then its lineage is dropped, so one lot's graph is held at a time.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const report::PeriodLot*>> rows;
  for (const report::PeriodLot& lot : *lots) {
    auto& of_lot = rows[lot.lot_id];
    if (of_lot.empty()) order.push_back(lot.lot_id);
    of_lot.push_back(&lot);
  }
  size_t done = 0;
  for (const std::string& lot_id : order) {
    if (++done % 50 == 0) std::cerr << "report: lot " << done << "/" << order.size() << "\n";
    LineageSource source = opt.source;
    source.lot = lot_id;
    const Status fetched = FetchEvidence(source, input);
    if (!fetched.ok()) {
      // A node that cannot be reached is not a finding about the lot.
      if (ExitCodeOf(fetched) == kExitUsage) return ReportError("report", fetched);
      for (const report::PeriodLot* row : rows[lot_id]) period.AddUnavailable(*row, fetched);
      continue;
    }
    const ledger::LineageReport verified = CheckLineage(input, opt.threads);
    for (const report::PeriodLot* row : rows[lot_id]) period.Add(*row, input, verified);
  }
  const report::Json model =
      period.Build(*log, input.policy ? &*input.policy : nullptr, input.policy_sha256,
                   input.as_of_us, SystemClock().NowMicros());
  std::string document;
  if (Status s = WriteReport(opt, model, nullptr, &document); !s.ok()) {
    return ReportError("report", s);
  }
  SayWritten(opt, model);
  return period.ExitCode();
}

int Run(const ReportOptions& opt) {
  if (!opt.participant.empty()) return RunPeriod(opt);
  if (!opt.from.empty() || !opt.to.empty()) {
    return ReportError("report", InvalidArgument("--from and --to go with --participant ID"));
  }
  if (opt.source.lot.empty() == opt.source.bundle.empty()) {
    return ReportError("report", InvalidArgument("say what to report on: --lot LOT_ID (from the "
                                                 "node), --bundle FILE (offline), or "
                                                 "--participant ID --from DATE --to DATE"));
  }
  if (opt.format == "pdf" && opt.output == "-" && isatty(STDOUT_FILENO)) {
    return ReportError("report", InvalidArgument("--format pdf writes a binary file: give -o "
                                                 "FILE.pdf (or redirect stdout)"));
  }
  std::optional<keys::SigningKey> key;
  if (opt.attest) {
    auto k = AuditorKey(opt);
    if (!k.ok()) return ReportError("report", k.status());
    key = *std::move(k);
  }
  auto input = GatherLineage(opt.source);
  if (!input.ok()) return ReportError("report", input.status());
  const ledger::LineageReport verified = CheckLineage(*input, opt.threads);
  int code = verified.ExitCode();
  report::Json model = report::BuildLotReport(*input, verified, SystemClock().NowMicros());
  const std::vector<Audit> audits = AuditsOf(verified);
  auto checks = CheckReports(opt.source.check_reports, audits, verified.lot_id, "report", &code);
  if (!checks.ok()) return ReportError("report", checks.status());
  model["report_checks"] = report::Json::parse(ReportChecksJson(*checks, audits).dump());
  std::string document;  // what was written, for --attest
  if (Status s = WriteReport(opt, model, &verified, &document); !s.ok()) {
    return ReportError("report", s);
  }
  SayWritten(opt, model);
  if (key) return Attest(opt, *key, *input, code, document);
  return code;
}

}  // namespace

void AddReportCommand(CLI::App& root, Runner* selected) {
  auto opt = std::make_shared<ReportOptions>();
  CLI::App* cmd = root.add_subcommand(
      "report",
      "Verify a lot's lineage (as cairn verify --lot or --bundle) and write it up as a document a\n"
      "compliance officer can file: the verdict and what was checked (events, signatures,\n"
      "proofs, checkpoints, registry, policy and bundle SHA-256), origin shares with kg, mine\n"
      "sites and processing facilities (EMRT/AMRT shape), the chain of custody, transit losses,\n"
      "and findings by kind with OECD Annex II red flags. Exit codes as cairn verify.");
  AddLineageSourceOptions(*cmd, opt->source, "report on", /*key_means_signing_key=*/true);
  cmd->add_option("--format", opt->format,
                  "md (Markdown), html (one self-contained printable file with the provenance\n"
                  "graph as SVG), json (the report's data), or csv (one file per table in the\n"
                  "-o directory, RFC 4180), or pdf (the html document printed by headless\n"
                  "Chromium, with page numbers; $CAIRN_CHROMIUM names the browser)")
      ->capture_default_str()
      ->check(CLI::IsMember({"md", "html", "json", "csv", "pdf"}));
  cmd->add_option("--pdf-timeout", opt->pdf_timeout, "seconds to wait for the browser to print")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-o,--output", opt->output, "file to write ('-': stdout); a directory for csv")
      ->capture_default_str();
  cmd->add_flag("--force", opt->force, "overwrite existing files");
  cmd->add_option("--threads", opt->threads, "signature-checking threads (default: all cores)");
  cmd->add_option("--participant", opt->participant,
                  "a period report instead: every lot this participant received or produced\n"
                  "from --from to --to (read from its home log, checked against the log's\n"
                  "signed root), each lineage verified, with a portfolio view per element and\n"
                  "stage against the EU CRMA's 65% single-third-country benchmark");
  cmd->add_option("--from", opt->from, "with --participant: first day of the period (YYYY-MM-DD)");
  cmd->add_option("--to", opt->to, "with --participant: last day of the period (YYYY-MM-DD)");
  CLI::Option* attest = cmd->add_flag(
      "--attest", opt->attest,
      "put the auditor's conclusion on the ledger: append an Attestation (kind audit) on the\n"
      "lot, signed with --key, carrying the verdict, the policy's name and SHA-256, the\n"
      "evidence bundle's SHA-256 and the SHA-256 of the report file written; later verify and\n"
      "report runs show it, and --check-report FILE checks a report against it");
  cmd->add_option("--key", opt->key_file, "with --attest: the auditor's secret key file")
      ->needs(attest);
  cmd->add_option("--passphrase-file", opt->passphrase_file,
                  "with --attest: passphrase of a sealed key file")
      ->needs(attest);
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
