// cairn report: verifies a lot's lineage as `cairn verify --lot/--bundle` does and writes the
// result up as a document (client/report/): JSON, Markdown, HTML, PDF, or one CSV file per table.
// With --attest the auditor's conclusion goes back onto the ledger (client/audit.h).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <system_error>

#include "client/audit.h"
#include "client/command.h"
#include "client/lineage_audit.h"
#include "client/node_client.h"
#include "client/report/pdf.h"
#include "client/report/report.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "keys/key_file.h"
#include "ledger/event.h"

namespace cairn::client {
namespace {

struct ReportOptions {
  LineageSource source;
  std::string format = "md";
  std::string output = "-";
  bool force = false;
  unsigned threads = 0;
  int pdf_timeout = 120;
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

int Run(const ReportOptions& opt) {
  if (opt.source.lot.empty() == opt.source.bundle.empty()) {
    return ReportError("report", InvalidArgument("say what to report on: --lot LOT_ID (from the "
                                                 "node) or --bundle FILE (offline)"));
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
  const std::vector<Audit> audits = AuditsOf(verified.graph, verified.lot_id);
  auto checks = CheckReports(opt.source.check_reports, audits);
  if (!checks.ok()) return ReportError("report", checks.status());
  model["report_checks"] = report::Json::parse(ReportChecksJson(*checks, audits).dump());
  if (!AllReportsAttested(*checks, verified.lot_id, "report")) code = kExitIntegrity;
  std::string document;  // what was written, for --attest
  Status written;
  if (opt.format == "csv") {
    written = WriteCsvTables(opt.output, model, opt.force);
  } else {
    std::string text;
    if (opt.format == "html" || opt.format == "pdf") {
      auto html = report::RenderHtml(model, verified);
      if (!html.ok()) return ReportError("report", html.status());
      text = *std::move(html);
      if (opt.format == "pdf") {
        auto pdf = PrintPdf(opt, text);
        if (!pdf.ok()) return ReportError("report", pdf.status());
        text = *std::move(pdf);
      }
    } else {
      text = opt.format == "json" ? model.dump(2) + "\n" : report::RenderMarkdown(model);
    }
    written = WriteOutputFile(opt.output, text, opt.force);
    document = std::move(text);
  }
  if (!written.ok()) return ReportError("report", written);
  // The verdict on stderr when the document went to stdout, else on stdout.
  (opt.output == "-" ? std::cerr : std::cout)
      << model["verdict"]["headline"].get<std::string>()
      << (opt.output == "-" ? "" : "\nwrote the " + opt.format + " report to " + opt.output)
      << "\n";
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
