// The one mapping from cairn::Status to grpc::Status.
//
// Every RPC handler answers through ToGrpcStatus so that a refusal reaches the caller with the code
// and the message ("Dispatch.lots[2].mass_g: got 0, want > 0") the ledger produced. Stateless;
// thread-safe.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace cairn::node {

// The gRPC code a cairn StatusCode is answered with. Total: every StatusCode has one.
grpc::StatusCode ToGrpcCode(StatusCode code);

// A grpc::Status with ToGrpcCode(status.code()) and status.message().
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace cairn::node
