// RequestParseInterceptor: a request whose bytes do not parse is answered INVALID_ARGUMENT, saying
// so, not gRPC's INTERNAL with an empty message.
//
// gRPC's generated handlers of the synchronous methods (the reads) parse the request before any of
// our code runs, and answer a failure with INTERNAL: to a client that status means the node broke,
// not that it sent garbage. This server interceptor sees that the parse failed (no request reaches
// POST_RECV_MESSAGE) and rewrites the status the handler then sends. The append methods parse
// their own bytes (node/service.h) and answer the same way.
#pragma once

#include <grpcpp/support/server_interceptor.h>

namespace cairn::node {

class RequestParseInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace cairn::node
