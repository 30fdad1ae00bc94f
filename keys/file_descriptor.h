// Internal to keys/: the file descriptor and errno text of common/file.h, by their keys/ names.
#pragma once

#include "common/file.h"

namespace cairn::keys {

using cairn::ErrnoText;
using cairn::FileDescriptor;

}  // namespace cairn::keys
