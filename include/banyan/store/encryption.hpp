// Keys for encryption at rest. With keys, the store keeps sensitive values (contact and
// lead email and phone, custom fields marked sensitive, stored idempotent responses)
// encrypted with AES-256-GCM, each value naming the key it was sealed with, and finds
// records by email through a keyed blind index (HMAC-SHA256 of the lower-cased address).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"

namespace banyan::store {

// A key ring: one or more named 256-bit keys. The last is the current key, which seals
// new values; the others still open what they sealed, so a key rotates by appending a
// new one (then, optionally, `banyan encryption rewrap` and dropping the old one).
// A plain value type; copies hold the secrets too, so keep them short-lived.
class BANYAN_EXPORT EncryptionKeys {
 public:
  struct Key {
    std::string id;      // 1 to 32 of A-Z a-z 0-9 _ -
    std::string secret;  // 32 bytes
  };

  // One key per line: "<id>:<base64 of 32 bytes>"; blank lines and lines starting with
  // '#' are skipped. Throws ValidationError("encryption_keys") for a malformed line, a
  // key that is not 32 bytes, a repeated id, or no key at all (the message never
  // contains key material).
  static EncryptionKeys parse(std::string_view text);
  // The same, read from a file. Unavailable when it cannot be read.
  static EncryptionKeys load_file(const std::string& path);
  // BANYAN_ENCRYPTION_KEY_FILE (a path to a key file) or else BANYAN_ENCRYPTION_KEYS
  // (the key lines themselves, ';' also separating lines); nullopt when neither is set.
  static std::optional<EncryptionKeys> from_environment();
  // The audit trail's key (AuditLog), delivered like the encryption keys but kept apart
  // from them: BANYAN_AUDIT_KEY_FILE or else BANYAN_AUDIT_KEY, exactly one key line
  // (ValidationError("audit_key") otherwise); nullopt when neither is set.
  static std::optional<EncryptionKeys> audit_key_from_environment();
  // Checks that `keys` holds exactly one key, as an audit key must.
  static EncryptionKeys single_audit_key(EncryptionKeys keys);
  // A key line with a fresh random key, for a key file.
  [[nodiscard]] static std::string generate_line(std::string_view id);

  const std::vector<Key>& keys() const noexcept { return keys_; }
  const Key& current() const { return keys_.back(); }

 private:
  std::vector<Key> keys_;
};

}  // namespace banyan::store
