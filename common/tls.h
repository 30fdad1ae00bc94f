// TLS for gRPC: the credentials a node serves with and a client (the CLI, a follower) connects
// with, from PEM files. One place, so that the node, its followers and the CLI read certificates
// and report their errors alike.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace cairn {

// A client's TLS files; all empty: plaintext.
struct ClientTls {
  std::string ca;    // PEM of the CA(s) the server's certificate must chain to
  std::string cert;  // PEM certificate chain of this client (with `key`), for mutual TLS
  std::string key;   // PEM private key of `cert`
};

// A server's TLS files; cert and key empty: plaintext.
struct ServerTls {
  std::string cert;  // PEM certificate chain of the node
  std::string key;   // PEM private key of `cert`
  std::string ca;    // PEM of the CA(s) client certificates must chain to; empty: none asked for
  bool require_client_cert = false;  // refuse a client without a certificate that chains to `ca`
};

// Plaintext when `tls` is all empty; else TLS verifying the server against `tls.ca`, presenting
// `tls.cert` when given. INVALID_ARGUMENT naming the option and file when a file cannot be read,
// holds no PEM block, or cert and key are not given together; `tls.cert` without `tls.ca`.
Result<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const ClientTls& tls);

// Plaintext when cert and key are empty; else TLS, asking for client certificates when `ca` is
// set and requiring them with `require_client_cert`. INVALID_ARGUMENT as above, and for
// require_client_cert without a ca.
Result<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const ServerTls& tls);

// Whether `address` (host:port, [v6]:port, unix:path) is reachable from this machine only:
// 127.0.0.0/8, ::1, localhost, or a unix socket.
bool IsLoopbackAddress(const std::string& address);

}  // namespace cairn
