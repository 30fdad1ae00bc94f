// common/text.h: what counts as a bidirectional control, and how untrusted text is shown.
#include "common/text.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(TextTest, FindsEveryBidirectionalControlAndNothingElse) {
  for (const char* control : {"\xD8\x9C", "\xE2\x80\x8E", "\xE2\x80\x8F", "\xE2\x80\xAA",
                              "\xE2\x80\xAE", "\xE2\x81\xA6", "\xE2\x81\xA9"}) {
    EXPECT_TRUE(HasBidiControl(std::string("lot ") + control + "1")) << control;
  }
  EXPECT_FALSE(HasBidiControl("pk-fwo:CHG-2025-0001"));
  EXPECT_FALSE(HasBidiControl("Baotou \xE5\x8C\x85\xE5\xA4\xB4"));           // 包头: CJK is fine
  EXPECT_FALSE(HasBidiControl("\xD8\xA8\xD9\x84\xD9\x88\xDA\x86\xD8\xB3"));  // Arabic script too
}

TEST(TextTest, EscapesControlsAndBidiButLeavesTextAlone) {
  EXPECT_EQ(EscapeForTerminal("lot \xE2\x80\xAE"
                              "1-GHC"),
            "lot \\u202e1-GHC");
  EXPECT_EQ(EscapeForTerminal("a\x1b[2Jb"), "a\\x1b[2Jb");  // no terminal escape sequences
  EXPECT_EQ(EscapeForTerminal("two\nlines\ttab"), "two\\x0alines\\x09tab");
  EXPECT_EQ(EscapeForTerminal("two\nlines\ttab", /*keep_newlines=*/true), "two\nlines\ttab");
  EXPECT_EQ(EscapeForTerminal("zero\xE2\x80\x8Bwidth"), "zero\\u200bwidth");
  EXPECT_EQ(EscapeForTerminal("bad \xFF byte"), "bad \\xff byte");
  EXPECT_EQ(EscapeForTerminal("C1 \xC2\x9B"), "C1 \\u009b");
  EXPECT_EQ(EscapeForTerminal("Mt Weld \xE2\x86\x92 Kuantan \xE2\x9C\x93"),
            "Mt Weld \xE2\x86\x92 Kuantan \xE2\x9C\x93");
}

TEST(TextTest, ValidatesUtf8) {
  EXPECT_TRUE(IsValidUtf8("Chagai \xE2\x9C\x93"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x80"));      // cut short
}

}  // namespace
}  // namespace cairn
