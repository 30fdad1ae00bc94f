// TerminalSafeBuf: a stream buffer that escapes, on their way to a person's terminal, the
// characters of untrusted text that could disguise it (control and bidirectional characters,
// common/text.h). main() puts it in front of std::cerr always and of std::cout unless the command
// prints JSON, so no command can print an event's text raw by forgetting to escape it.
#pragma once

#include <streambuf>
#include <string>

namespace cairn::client {

class TerminalSafeBuf final : public std::streambuf {
 public:
  // `out` must outlive this buffer.
  explicit TerminalSafeBuf(std::streambuf* out) : out_(out) {}
  TerminalSafeBuf(const TerminalSafeBuf&) = delete;
  TerminalSafeBuf& operator=(const TerminalSafeBuf&) = delete;
  ~TerminalSafeBuf() override;

  std::streambuf* target() const { return out_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  // Escapes and writes the complete lines held (everything when `all`).
  void Drain(bool all);

  std::streambuf* const out_;
  std::string pending_;
};

}  // namespace cairn::client
