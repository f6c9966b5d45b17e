// Encryption at rest, one value at a time: key rings, sealing, blind indexes.
#include "store/field_cipher.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "banyan/errors.hpp"

namespace banyan::store::detail {
namespace {

// 32 bytes of base64 each ("k1" and "k2" differ).
const std::string kKey1 = "k1:" + EncryptionKeys::generate_line("x").substr(2);
const std::string kKey2 = "k2:" + EncryptionKeys::generate_line("x").substr(2);

TEST(EncryptionKeys, ParsesKeyLinesTheLastBeingCurrent) {
  const auto keys = EncryptionKeys::parse("# ring\n" + kKey1 + "\n\n  " + kKey2 + "  \n");
  ASSERT_EQ(keys.keys().size(), 2u);
  EXPECT_EQ(keys.keys()[0].id, "k1");
  EXPECT_EQ(keys.current().id, "k2");
  EXPECT_EQ(keys.current().secret.size(), 32u);
  // The environment variable form separates lines with ';'.
  EXPECT_EQ(EncryptionKeys::parse(kKey1 + ";" + kKey2).current().id, "k2");
}

TEST(EncryptionKeys, RefusesMalformedRingsWithoutEchoingKeyMaterial) {
  const std::string short_key = "k1:c2hvcnQ=";  // "short"
  for (const std::string& text :
       {std::string(""), std::string("# only a comment"), std::string("no-colon"), short_key,
        std::string("bad id!:") + kKey1.substr(3), kKey1 + "\n" + kKey1,
        std::string("k1:not base64 at all!")}) {
    try {
      EncryptionKeys::parse(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "encryption_keys");
      EXPECT_EQ(std::string(e.what()).find(kKey1.substr(3)), std::string::npos);
    }
  }
}

TEST(EncryptionKeys, GeneratedKeysAreFreshEachTime) {
  EXPECT_NE(EncryptionKeys::generate_line("a"), EncryptionKeys::generate_line("a"));
  EXPECT_THROW(EncryptionKeys::generate_line("no spaces"), ValidationError);
}

TEST(FieldCipher, SealedValuesOpenOnlyInTheirPlaceAndNameTheirKey) {
  const FieldCipher cipher(EncryptionKeys::parse(kKey1));
  const std::string sealed = cipher.seal("ada@example.com", "contact.email");
  EXPECT_TRUE(sealed.starts_with("enc1:k1:"));
  EXPECT_EQ(sealed.find("ada"), std::string::npos);
  EXPECT_TRUE(FieldCipher::is_sealed(sealed));
  EXPECT_TRUE(cipher.is_current(sealed));
  EXPECT_EQ(cipher.open(sealed, "contact.email"), "ada@example.com");
  // Moved to another column, it does not open.
  EXPECT_THROW(cipher.open(sealed, "contact.phone"), Unavailable);
  // Random nonces: the same value seals differently every time.
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) seen.insert(cipher.seal("same", "contact.email"));
  EXPECT_EQ(seen.size(), 20u);
  // Empty values seal and open too.
  EXPECT_EQ(cipher.open(cipher.seal("", "p"), "p"), "");
}

TEST(FieldCipher, AnyAlteredByteIsRefused) {
  const FieldCipher cipher(EncryptionKeys::parse(kKey1));
  const std::string sealed = cipher.seal("+44 20 7946 0000", "lead.phone");
  for (std::size_t i = std::string("enc1:k1:").size(); i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    try {
      const std::string plain = cipher.open(altered, "lead.phone");
      // A change in the last character's unused bits decodes to the same bytes.
      EXPECT_EQ(plain, "+44 20 7946 0000") << "position " << i;
    } catch (const Unavailable&) {
    }
  }
  EXPECT_THROW(cipher.open("enc1:k1:", "lead.phone"), Unavailable);
  EXPECT_THROW(cipher.open("enc1:k1:!!!!", "lead.phone"), Unavailable);
}

TEST(FieldCipher, OldKeysStillOpenAndUnknownKeysAreNamed) {
  const FieldCipher old_ring(EncryptionKeys::parse(kKey1));
  const FieldCipher rotated(EncryptionKeys::parse(kKey1 + "\n" + kKey2));
  const FieldCipher only_new(EncryptionKeys::parse(kKey2));
  const std::string sealed = old_ring.seal("grace@example.com", "contact.email");
  EXPECT_EQ(rotated.open(sealed, "contact.email"), "grace@example.com");
  EXPECT_FALSE(rotated.is_current(sealed));
  EXPECT_TRUE(rotated.seal("x", "p").starts_with("enc1:k2:"));
  try {
    only_new.open(sealed, "contact.email");
    ADD_FAILURE() << "opened without its key";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("'k1'"), std::string::npos);
  }
}

TEST(FieldCipher, ValuesStoredBeforeEncryptionReadAsTheyAre) {
  const FieldCipher cipher(EncryptionKeys::parse(kKey1));
  EXPECT_FALSE(FieldCipher::is_sealed("ada@example.com"));
  EXPECT_EQ(cipher.open("ada@example.com", "contact.email"), "ada@example.com");
}

TEST(FieldCipher, BlindIndexesAreStablePerKeyAndDifferBetweenKeys) {
  const FieldCipher one(EncryptionKeys::parse(kKey1));
  const FieldCipher both(EncryptionKeys::parse(kKey1 + "\n" + kKey2));
  EXPECT_EQ(one.blind_index("ada@example.com"), one.blind_index("ada@example.com"));
  EXPECT_EQ(one.blind_index("ada@example.com").size(), 32u);
  EXPECT_NE(one.blind_index("ada@example.com"), one.blind_index("ada@example.org"));
  const auto all = both.blind_indexes("ada@example.com");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], one.blind_index("ada@example.com"));
  EXPECT_NE(all[0], all[1]);
  EXPECT_EQ(both.blind_index("ada@example.com"), all[1]);
  EXPECT_EQ(normalized_email("  Ada@Example.COM "), "ada@example.com");
}

TEST(FieldCipher, FingerprintsTellKeysApartWithoutRevealingThem) {
  const FieldCipher a(EncryptionKeys::parse(kKey1));
  const FieldCipher b(EncryptionKeys::parse("k1:" + EncryptionKeys::generate_line("x").substr(2)));
  ASSERT_EQ(a.fingerprints().size(), 1u);
  EXPECT_EQ(a.fingerprints()[0].id, "k1");
  EXPECT_NE(a.fingerprints()[0].fingerprint, b.fingerprints()[0].fingerprint);
  EXPECT_EQ(a.fingerprints()[0].fingerprint.find(kKey1.substr(3)), std::string::npos);
}

}  // namespace
}  // namespace banyan::store::detail
