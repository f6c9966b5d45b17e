// Encryption at rest of single values: AES-256-GCM sealing and keyed blind indexes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "banyan/store/encryption.hpp"

namespace banyan::store::detail {

// Seals and opens values with a key ring (thread-safe: immutable after construction).
//
// A sealed value is "enc1:<key id>:<base64url of nonce(12) | ciphertext | tag(16)>". The
// associated data is the value's place ("contact.email"), so a sealed value copied into
// another column does not open. Each ring key yields three subkeys by HMAC-SHA256 with
// fixed labels (sealing, blind index, fingerprint), so no key material serves two uses.
class FieldCipher {
 public:
  explicit FieldCipher(const EncryptionKeys& keys);

  // Seals `plain` with the current key.
  std::string seal(std::string_view plain, std::string_view place) const;
  // The plain value of `stored`. A value that is not sealed (stored before encryption
  // was turned on) is returned as it is. Unavailable when it was sealed with a key not
  // in the ring, or does not open (altered, or moved from another place).
  std::string open(std::string_view stored, std::string_view place) const;
  // Whether `stored` is a sealed value, and whether sealed with the current key.
  static bool is_sealed(std::string_view stored);
  bool is_current(std::string_view stored) const;

  // The blind index of `normalized` under the current key (32 hex digits), and under
  // every key of the ring (an equality lookup matches any of them until a rewrap).
  std::string blind_index(std::string_view normalized) const;
  std::vector<std::string> blind_indexes(std::string_view normalized) const;

  struct KeyCheck {
    std::string id;
    std::string fingerprint;  // hex HMAC of a fixed label: tells a key, reveals nothing
  };
  std::vector<KeyCheck> fingerprints() const;
  const std::string& current_id() const { return keys_.back().id; }

 private:
  struct Subkeys {
    std::string id;
    std::string seal;   // 32 bytes
    std::string index;  // 32 bytes
    std::string check;  // hex
  };
  const Subkeys* find(std::string_view id) const;
  std::vector<Subkeys> keys_;
};

// The normal form of an email for its blind index: ASCII lower case.
std::string normalized_email(std::string_view email);

}  // namespace banyan::store::detail
