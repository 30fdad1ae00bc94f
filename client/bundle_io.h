// Evidence on the wire and on disk — saved checkpoints and bundles: fetching one from a node
// (Ledger.Trace) and reading or writing a bundle file (binary protobuf, or protobuf JSON when the
// file starts with '{').
#pragma once

#include <string>

#include "cairn/v1/bundle.pb.h"
#include "client/node_client.h"
#include "common/status.h"
#include "ledger/lineage.h"

namespace cairn::client {

// Calls Ledger.Trace and merges the streamed parts. The node's status on failure (NOT_FOUND for
// an unknown lot, UNAVAILABLE when unreachable).
Result<cairn::v1::EvidenceBundle> FetchBundle(NodeClient& client, const std::string& lot_id,
                                              cairn::v1::TraceDirection direction);

// INVALID_ARGUMENT when the file is neither a bundle in binary nor in JSON form, NOT_FOUND when it
// cannot be read. With `sha256_hex`, also the hex SHA-256 of the bytes read.
Result<cairn::v1::EvidenceBundle> ReadBundle(const std::string& path,
                                             std::string* sha256_hex = nullptr);
// Writes atomically (temporary file, then rename; "-": stdout), refusing an existing file unless
// `force` (INVALID_ARGUMENT). INTERNAL with the OS's reason on an I/O error.
Status WriteBundle(const std::string& path, const cairn::v1::EvidenceBundle& bundle, bool json,
                   bool force);

// A signed checkpoint saved by `cairn checkpoint -o` (protobuf JSON) or in binary.
// INVALID_ARGUMENT naming the file when it is neither (or cannot be read).
Result<cairn::v1::SignedCheckpoint> ReadSavedCheckpoint(const std::string& path);

// The bundle's events as a lineage graph, parsed but NOT verified (for display; `cairn verify`
// checks). Entries that do not parse are skipped and counted in *skipped.
ledger::LineageGraph GraphOfBundle(const cairn::v1::EvidenceBundle& bundle, size_t* skipped);

}  // namespace cairn::client
