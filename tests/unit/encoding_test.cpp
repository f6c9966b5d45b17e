#include "util/encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace banyan::util {
namespace {

TEST(Encoding, HexWritesTwoLowerCaseDigitsPerByte) {
  EXPECT_EQ(hex(""), "");
  EXPECT_EQ(hex(std::string("\x00\x0f\xa0\xff", 4)), "000fa0ff");
}

TEST(Encoding, Base64urlRoundTripsArbitraryBytesWithoutPadding) {
  for (const std::string& s :
       {std::string(""), std::string("a"), std::string("ab"), std::string("abc"),
        std::string("\xfb\xff", 2), std::string("1|name|a|42|s|O'Brien \xE2\x9C\x93")}) {
    const std::string text = base64url_encode(s);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos) << text;
    std::string back;
    ASSERT_TRUE(base64url_decode(text, back));
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
}

TEST(Encoding, Base64urlRefusesForeignCharactersAndImpossibleLengths) {
  std::string out;
  EXPECT_FALSE(base64url_decode("a", out));
  EXPECT_FALSE(base64url_decode("abcde", out));
  EXPECT_FALSE(base64url_decode("ab+/", out));
  EXPECT_FALSE(base64url_decode("ab==", out));
  EXPECT_FALSE(base64url_decode(std::string("ab\0c", 4), out));
}

TEST(Encoding, Base64AnyReadsStandardAndUrlSafePaddedOrNot) {
  std::string out;
  for (const char* text : {"+/8=", "+/8", "-_8", "-_8="}) {
    ASSERT_TRUE(base64_decode_any(text, out)) << text;
    EXPECT_EQ(out, std::string("\xfb\xff", 2)) << text;
  }
  EXPECT_FALSE(base64_decode_any("a*b=", out));
}

TEST(Encoding, Sha256AndHmacMatchTheirPublishedTestVectors) {
  // FIPS 180-2, appendix B.1.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231, test case 2.
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Encoding, RandomBytesAreTheSizeAskedAndDiffer) {
  EXPECT_EQ(random_bytes(0), "");
  const std::string a = random_bytes(32), b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace banyan::util
