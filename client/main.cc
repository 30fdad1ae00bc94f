// cairn: the client for partner systems, auditors and compliance officers.
#include <absl/synchronization/mutex.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "client/command.h"
#include "client/terminal_safe.h"
#include "common/crypto.h"

namespace cairn::client {
namespace {

// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: "lgo" is one from "log".
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The closest of `names` to `word` within a third of its length (at least 1 edit), or "".
std::string Closest(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
  for (const std::string& name : names) {
    const size_t d = EditDistance(word, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

// The innermost subcommand the parse selected (the root when none).
CLI::App* Deepest(CLI::App* app) {
  while (!app->get_subcommands().empty()) app = app->get_subcommands().front();
  return app;
}

// "unknown command 'lgo' (did you mean 'log'?)" or "unknown option '--jsn' of cairn get (did
// you mean '--json'?)" for the first word the parse did not expect; "" when there is none.
std::string Unexpected(CLI::App* root) {
  CLI::App* at = Deepest(root);
  const std::vector<std::string> extra = at->remaining();
  if (extra.empty()) return "";
  const std::string& word = extra.front();
  std::vector<std::string> names;
  std::string what;
  if (word.rfind("-", 0) == 0) {
    const std::string flag = word.substr(0, word.find('='));
    for (const CLI::Option* o : at->get_options()) {
      for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
      for (const std::string& n : o->get_snames()) names.push_back("-" + n);
    }
    what = "unknown option '" + flag + "'";
    if (at != root) what += " of cairn " + at->get_name();
    const std::string guess = Closest(flag, names);
    return guess.empty() ? what + " (see --help)" : what + " (did you mean '" + guess + "'?)";
  }
  for (const CLI::App* sub : at->get_subcommands({})) names.push_back(sub->get_name());
  if (names.empty()) return "unexpected argument '" + word + "' (see --help)";
  what = at == root ? "unknown command '" + word + "'"
                    : "unknown subcommand '" + word + "' of cairn " + at->get_name();
  const std::string guess = Closest(word, names);
  return guess.empty() ? what + " (see --help)" : what + " (did you mean '" + guess + "'?)";
}

// Whether the chosen command (or subcommand) was given `flag`.
bool Given(CLI::App* app, const std::string& flag) {
  for (CLI::App* at = app;;) {
    const CLI::Option* json = at->get_option_no_throw(flag);
    if (json != nullptr && json->count() > 0) return true;
    if (at->get_subcommands().empty()) return false;
    at = at->get_subcommands().front();
  }
}

}  // namespace
}  // namespace cairn::client

int main(int argc, char** argv) {
  using namespace cairn::client;  // NOLINT: function scope
  // Debian's Abseil checks every Mutex lock gRPC takes for deadlock cycles; the long RPCs need
  // none of that bookkeeping.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!cairn::InitCrypto().ok()) {
    std::cerr << "cairn: libsodium failed to initialize\n";
    return kExitUsage;
  }
  CLI::App app{"cairn: submit, read and verify provenance events on a Cairn ledger"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cairn " CAIRN_VERSION);
  Runner selected;
  AddKeygenCommand(app, &selected);
  AddRegistryCommand(app, &selected);
  AddSubmitCommand(app, &selected);
  AddGetCommand(app, &selected);
  AddLogCommand(app, &selected);
  AddLotCommand(app, &selected);
  AddCheckpointCommand(app, &selected);
  AddVerifyCommand(app, &selected);
  AddReportCommand(app, &selected);
  AddProveCommand(app, &selected);
  AddTraceCommand(app, &selected);
  AddExportCommand(app, &selected);
  AddStatusCommand(app, &selected);
  AddForksCommand(app, &selected);
  app.add_subcommand("version", "Print cairn's version.")->callback([&selected] {
    selected = [] {
      std::cout << "cairn " CAIRN_VERSION "\n";
      return kExitOk;
    };
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A misspelled command or option: say which, and the closest one there is.
    const std::string unexpected = Unexpected(&app);
    if (unexpected.empty()) {
      app.exit(e);
    } else {
      std::cerr << "cairn: " << unexpected << "\n";
    }
    return kExitUsage;
  }
  if (!selected) {
    std::cerr << "cairn: no command given; see cairn --help\n";
    return kExitUsage;
  }
  SetJsonErrors(Given(&app, "--json"));
  SetQuiet(Given(&app, "--quiet"));
  // Event text shown to a person is escaped on its way out (client/terminal_safe.h); JSON on
  // stdout is left exact.
  TerminalSafeBuf safe_err(std::cerr.rdbuf());
  std::cerr.rdbuf(&safe_err);
  std::optional<TerminalSafeBuf> safe_out;
  std::streambuf* const raw_out = std::cout.rdbuf();
  if (!JsonErrors()) {
    safe_out.emplace(raw_out);
    std::cout.rdbuf(&*safe_out);
  }
  const int code = selected();
  std::cout.flush();
  std::cout.rdbuf(raw_out);
  safe_out.reset();
  std::cerr.rdbuf(safe_err.target());
  return code;
}
