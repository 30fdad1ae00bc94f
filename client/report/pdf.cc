#include "client/report/pdf.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "client/node_client.h"

extern char** environ;

namespace cairn::client::report {
namespace fs = std::filesystem;
namespace {

bool Executable(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error) && access(path.c_str(), X_OK) == 0;
}

// A directory under $TMPDIR that is removed, with everything in it, when this goes out of scope.
class ScratchDir {
 public:
  static Result<ScratchDir> Make() {
    std::string pattern = (fs::temp_directory_path() / "cairn-pdf-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Internal("cannot make a temporary directory for the PDF: " +
                      std::string(std::strerror(errno)));
    }
    return ScratchDir(pattern);
  }
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit ScratchDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

// What the browser left in `path`; empty when it wrote nothing there.
std::string ContentsOrEmpty(const fs::path& path) {
  auto read = ReadFileOrStdin(path.string());
  return read.ok() ? *std::move(read) : std::string();
}

// The last lines of the browser's output, for an error message.
std::string Tail(const std::string& text, size_t max = 600) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

}  // namespace

Result<std::string> FindChromium() {
  if (const char* set = std::getenv("CAIRN_CHROMIUM"); set != nullptr && *set != '\0') {
    if (!Executable(set)) {
      return NotFound(std::string("CAIRN_CHROMIUM=") + set + " is not an executable file");
    }
    return std::string(set);
  }
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env != nullptr ? path_env : "/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      const fs::path candidate = fs::path(dir) / name;
      if (Executable(candidate)) return candidate.string();
    }
  }
  return NotFound(
      "--format pdf prints the HTML report with a headless Chromium, and none was found on PATH "
      "(install it: apt-get install chromium; or set CAIRN_CHROMIUM to the browser's path); "
      "--format html gives the same document");
}

Result<std::string> PrintToPdf(const std::string& browser, const std::string& html,
                               int timeout_seconds) {
  CAIRN_ASSIGN_OR_RETURN(ScratchDir scratch, ScratchDir::Make());
  const fs::path page = scratch.path() / "report.html";
  const fs::path pdf = scratch.path() / "report.pdf";
  const fs::path log = scratch.path() / "browser.log";
  CAIRN_RETURN_IF_ERROR(WriteOutputFile(page.string(), html, /*force=*/true));

  // A fresh profile, no sandbox (it needs user namespaces, which containers and root often lack;
  // the page is our own self-contained file), no header or footer: the page numbers come from the
  // report's @page rules.
  const std::vector<std::string> argv = {
      browser,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-extensions",
      "--no-first-run",
      "--no-default-browser-check",
      "--user-data-dir=" + (scratch.path() / "profile").string(),
      "--no-pdf-header-footer",
      "--print-to-pdf=" + pdf.string(),
      "file://" + page.string(),
  };
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, browser.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return NotFound("cannot start " + browser + ": " + std::strerror(spawned));
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int wait_status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &wait_status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      return Internal("waiting for " + browser + ": " + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wait_status, 0);
      return DeadlineExceeded(browser + " did not print the report within " +
                              std::to_string(timeout_seconds) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string bytes = ContentsOrEmpty(pdf);
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0 || bytes.rfind("%PDF-", 0) != 0) {
    const std::string how = WIFEXITED(wait_status)
                                ? "exited " + std::to_string(WEXITSTATUS(wait_status))
                                : "was killed by signal " + std::to_string(WTERMSIG(wait_status));
    return Internal(browser + " " + how + " without printing a PDF: " + Tail(ContentsOrEmpty(log)));
  }
  return bytes;
}

}  // namespace cairn::client::report
