// The parts of the CLI every command shares: node options, the one error and exit path.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "client/command.h"

namespace cairn::client {

void AddNodeOptions(CLI::App& cmd, NodeOptions& options, bool key_means_signing_key) {
  const char* env = std::getenv("CAIRN_NODE");
  options.node = env != nullptr && *env != '\0' ? env : "127.0.0.1:7400";
  options.node_source = env != nullptr && *env != '\0' ? "CAIRN_NODE" : "default";
  cmd.add_option("--node", options.node, "node address host:port (env CAIRN_NODE)")
      ->capture_default_str()
      ->each([&options](const std::string&) { options.node_source = "--node"; });
  cmd.add_option("--timeout", options.timeout_s, "seconds to wait for each call")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  // A readable file holding a PEM block, so a wrong path fails before any call.
  const CLI::Validator pem(
      [](std::string& path) -> std::string {
        std::ifstream in(path, std::ios::binary);
        if (!in) return "cannot read " + path;
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        if (text.find("-----BEGIN ") == std::string::npos) return path + " holds no PEM block";
        return "";
      },
      "PEM");
  CLI::Option* ca = cmd.add_option("--ca", options.tls.ca,
                                   "PEM file of the CA the node's certificate must chain to: "
                                   "connect with TLS (env CAIRN_CA)")
                        ->envname("CAIRN_CA")
                        ->check(pem);
  CLI::Option* cert =
      cmd.add_option("--cert", options.tls.cert,
                     "PEM certificate of this client, for a node that requires client "
                     "certificates (mutual TLS; needs --cert-key and --ca; env CAIRN_CERT)")
          ->envname("CAIRN_CERT")
          ->check(pem);
  CLI::Option* key =
      cmd.add_option(key_means_signing_key ? "--cert-key" : "--cert-key,--key", options.tls.key,
                     key_means_signing_key
                         ? "PEM private key of --cert (env CAIRN_KEY)"
                         : "PEM private key of --cert (also --key; env CAIRN_KEY)")
          ->envname("CAIRN_KEY")
          ->check(pem);
  cert->needs(key)->needs(ca);
  key->needs(cert);
}

namespace {
bool g_json_errors = false;
bool g_quiet = false;
}  // namespace

void SetQuiet(bool on) { g_quiet = on; }

void SetJsonErrors(bool on) { g_json_errors = on; }
bool JsonErrors() { return g_json_errors; }

int ExitCodeOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return kExitUsage;
    default:
      break;
  }
  if (status.remote()) return kExitIntegrity;
  switch (status.code()) {
    case StatusCode::kDataLoss:
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
      return kExitIntegrity;
    default:
      return kExitUsage;
  }
}

int ReportError(const std::string& command, const Status& status, const nlohmann::json& extra) {
  const int code = ExitCodeOf(status);
  if (g_quiet) return code;
  std::cerr << "cairn " << command << ": " << status.ToString() << "\n";
  if (g_json_errors) {
    nlohmann::json out = extra.is_object() ? extra : nlohmann::json::object();
    out["error"] = {{"code", StatusCodeName(status.code())},
                    {"message", status.message()},
                    {"exit_code", code}};
    std::cout << out.dump(2) << "\n";
  }
  return code;
}

Status WithRegistryHint(const Status& status, const std::string& registry_path) {
  if (status.ok()) return status;
  // A checkpoint that does not even parse is no less an integrity failure.
  const StatusCode code =
      status.code() == StatusCode::kInvalidArgument ? StatusCode::kDataLoss : status.code();
  return Status(code, status.message() + " (check that " + registry_path +
                          " is the consortium's current registry: cairn registry show "
                          "--registry " +
                          registry_path + ")");
}

}  // namespace cairn::client
