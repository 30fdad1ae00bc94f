// cairn report --format pdf: the HTML report printed to PDF by a headless Chromium, so that the
// PDF is the HTML document (same layout, print CSS, page numbers from its @page rules).
#pragma once

#include <string>

#include "common/status.h"

namespace cairn::client::report {

// The browser to print with: $CAIRN_CHROMIUM if set, else the first of chromium,
// chromium-browser, google-chrome on $PATH. NotFound, saying what to install, if none.
Result<std::string> FindChromium();

// Prints the self-contained `html` to PDF bytes with `browser` (headless, in a fresh profile in a
// temporary directory that is removed afterwards). Gives up after `timeout_seconds`.
Result<std::string> PrintToPdf(const std::string& browser, const std::string& html,
                               int timeout_seconds = 120);

}  // namespace cairn::client::report
