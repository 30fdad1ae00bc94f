// cairn report: verifies a lot's lineage as `cairn verify --lot/--bundle` does and writes the
// result up as a document (client/report/): JSON, Markdown, HTML, PDF, or one CSV file per table.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <system_error>

#include "client/command.h"
#include "client/lineage_audit.h"
#include "client/node_client.h"
#include "client/report/pdf.h"
#include "client/report/report.h"
#include "common/clock.h"

namespace cairn::client {
namespace {

struct ReportOptions {
  LineageSource source;
  std::string format = "md";
  std::string output = "-";
  bool force = false;
  unsigned threads = 0;
  int pdf_timeout = 120;
};

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
  auto input = GatherLineage(opt.source);
  if (!input.ok()) return ReportError("report", input.status());
  const ledger::LineageReport verified = CheckLineage(*input, opt.threads);
  const int code = verified.ExitCode();
  const report::Json model = report::BuildLotReport(*input, verified, SystemClock().NowMicros());
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
  }
  if (!written.ok()) return ReportError("report", written);
  // The verdict on stderr when the document went to stdout, else on stdout.
  (opt.output == "-" ? std::cerr : std::cout)
      << model["verdict"]["headline"].get<std::string>()
      << (opt.output == "-" ? "" : "\nwrote the " + opt.format + " report to " + opt.output)
      << "\n";
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
  AddLineageSourceOptions(*cmd, opt->source, "report on");
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
  cmd->callback([opt, selected] { *selected = [opt] { return Run(*opt); }; });
}

}  // namespace cairn::client
