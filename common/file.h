// Files written whole or not at all.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace cairn {

// Writes `data` to a temporary file beside `path` with permissions `mode`, syncs it, then renames
// it over `path` (or, when !replace, links it to `path`, which fails ALREADY_EXISTS if `path`
// exists), and syncs the directory: afterwards `path` is the old file or the whole new one, on
// disk. Errors are INTERNAL and begin "<what> <path>: ".
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                           bool replace, std::string_view what);

}  // namespace cairn
