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
  cmd.add_option("--node", options.node, "node address host:port (env CAIRN_NODE)")
      ->capture_default_str();
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

int ReportError(const std::string& command, const Status& status) {
  std::cerr << "cairn " << command << ": " << status.ToString() << "\n";
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kPermissionDenied:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kUnauthenticated:
    case StatusCode::kDataLoss:
      return kExitIntegrity;
    default:
      return kExitUsage;
  }
}

}  // namespace cairn::client
