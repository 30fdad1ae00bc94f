// Untrusted text: what an event's strings may hold, and how to show them to a person.
//
// Event strings come from any participant's systems. Unicode's bidirectional controls (U+202A-E,
// U+2066-9, U+200E/F, U+061C) reorder what a terminal shows ("Trojan Source"): a lot id could
// display as another. The node refuses them in identifiers and names (ledger/validate.cc); the CLI
// shows every event string through EscapeForTerminal. JSON output is left exact.
#pragma once

#include <string>
#include <string_view>

namespace cairn {

// True when `utf8` holds a bidirectional control character.
bool HasBidiControl(std::string_view utf8);

// True when `utf8` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view utf8);

// `text` with every control character (C0 but newline and tab when `keep_newlines`, DEL, C1),
// bidirectional control, zero-width or line/paragraph separator written as an escape (\x1b,
// \u202e), and every byte that is not valid UTF-8 as \xNN; everything else unchanged.
std::string EscapeForTerminal(std::string_view text, bool keep_newlines = false);

}  // namespace cairn
