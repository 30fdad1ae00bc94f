#include "client/terminal_safe.h"

#include "common/text.h"

namespace cairn::client {

TerminalSafeBuf::~TerminalSafeBuf() { Drain(true); }

TerminalSafeBuf::int_type TerminalSafeBuf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  pending_.push_back(traits_type::to_char_type(c));
  if (c == '\n') Drain(false);
  return c;
}

std::streamsize TerminalSafeBuf::xsputn(const char* s, std::streamsize n) {
  pending_.append(s, static_cast<size_t>(n));
  Drain(false);
  return n;
}

int TerminalSafeBuf::sync() {
  Drain(true);
  return out_->pubsync();
}

void TerminalSafeBuf::Drain(bool all) {
  // Whole lines only unless asked, so a character split across two writes is escaped whole.
  const size_t end = all ? pending_.size() : pending_.rfind('\n') + 1;
  if (end == 0 || (all && pending_.empty())) return;
  const std::string shown =
      EscapeForTerminal(std::string_view(pending_).substr(0, end), /*keep_newlines=*/true);
  out_->sputn(shown.data(), static_cast<std::streamsize>(shown.size()));
  pending_.erase(0, end);
}

}  // namespace cairn::client
