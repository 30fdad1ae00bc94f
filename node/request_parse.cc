#include "node/request_parse.h"

#include <string>

namespace cairn::node {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RequestParseInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestParseInterceptor(const char* method) : method_(method != nullptr ? method : "") {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsed_ = true;
    }
    if (unparsed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::INTERNAL) {
      methods->ModifySendStatus(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "the request bytes are not a serialized request message of " + method_ +
                           " (they do not parse as its protobuf type)"));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  bool unparsed_ = false;
};

}  // namespace

grpc::experimental::Interceptor* RequestParseInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const std::string method = info->method() != nullptr ? info->method() : "";
  // The appends parse their own bytes; the hot path pays for no interceptor.
  if (method == "/cairn.v1.Ledger/Append" || method == "/cairn.v1.Ledger/AppendBatch") {
    return nullptr;
  }
  return new RequestParseInterceptor(info->method());
}

}  // namespace cairn::node
