#include "store/validation.hpp"

#include <gtest/gtest.h>

#include <string>

#include "banyan/errors.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store::detail {
namespace {

TEST(TextValidation, AcceptsMultibyteTextUpTo255Characters) {
  std::string s;
  for (int i = 0; i < 255; ++i) s += "é";  // 510 bytes, 255 characters
  EXPECT_NO_THROW(check_text("name", s));
  EXPECT_THROW(check_text("name", s + "e"), ValidationError);
}

TEST(TextValidation, RejectsInvalidUtf8) {
  for (const std::string& bad :
       {std::string("\xC3"), std::string("\xC0\xAF"),  // truncated, overlong
        std::string("\xED\xA0\x80"),                   // surrogate
        std::string("\xF5\x80\x80\x80"), std::string("a\xFFz")}) {
    EXPECT_FALSE(valid_utf8(bad));
    EXPECT_THROW(check_text("name", bad), ValidationError);
  }
  EXPECT_TRUE(valid_utf8("😀 ok"));
}

TEST(TextValidation, RejectsNulBytesNamingTheField) {
  try {
    check_text("title", std::string("a\0b", 3));
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "title");
  }
}

TEST(EmailValidation, AcceptsPlainAddressesAndRejectsMalformedOnes) {
  EXPECT_NO_THROW(check_email("email", std::string("ann.lee+crm@example.co.uk")));
  for (const char* bad : {"", "ann", "ann@", "@example.com", "ann@example", "a b@example.com",
                          "ann@@example.com", "ann@example..com", "ann@.example.com"}) {
    EXPECT_THROW(check_email("email", std::string_view(bad)), ValidationError) << bad;
  }
}

}  // namespace
}  // namespace banyan::store::detail
