#include "common/tls.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

namespace cairn {

namespace {

// The PEM text of `path`, given as option `what`.
Result<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(what + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(what + ": cannot read " + path);
  std::string pem = text.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return InvalidArgument(what + ": " + path + " holds no PEM block (want a PEM file)");
  }
  return pem;
}

}  // namespace

Result<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const ClientTls& tls) {
  if (tls.ca.empty() && tls.cert.empty() && tls.key.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (tls.cert.empty() != tls.key.empty()) {
    return InvalidArgument(tls.cert.empty() ? "--key: given without --cert"
                                            : "--cert: given without --key");
  }
  if (tls.ca.empty()) {
    return InvalidArgument("--ca: required with --cert (the CA the node's certificate chains to)");
  }
  grpc::SslCredentialsOptions options;
  CAIRN_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("--ca", tls.ca));
  if (!tls.cert.empty()) {
    CAIRN_ASSIGN_OR_RETURN(options.pem_cert_chain, ReadPem("--cert", tls.cert));
    CAIRN_ASSIGN_OR_RETURN(options.pem_private_key, ReadPem("--key", tls.key));
  }
  return grpc::SslCredentials(options);
}

Result<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const ServerTls& tls) {
  if (tls.cert.empty() && tls.key.empty()) {
    if (!tls.ca.empty() || tls.require_client_cert) {
      return InvalidArgument("tls: ca and require_client_cert need the node's own cert and key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert.empty() != tls.key.empty()) {
    return InvalidArgument(tls.cert.empty() ? "tls.key: given without tls.cert"
                                            : "tls.cert: given without tls.key");
  }
  if (tls.require_client_cert && tls.ca.empty()) {
    return InvalidArgument(
        "tls.require_client_cert: needs tls.ca, the CA client certificates must chain to");
  }
  grpc::SslServerCredentialsOptions options(
      tls.require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
      : tls.ca.empty()        ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                              : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  CAIRN_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem("tls.cert", tls.cert));
  CAIRN_ASSIGN_OR_RETURN(pair.private_key, ReadPem("tls.key", tls.key));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!tls.ca.empty()) {
    CAIRN_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("tls.ca", tls.ca));
  }
  return grpc::SslServerCredentials(options);
}

bool IsLoopbackAddress(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) return true;
  std::string host = address;
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']') == std::string::npos) {
    host = host.substr(0, colon);
  } else if (host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace cairn
