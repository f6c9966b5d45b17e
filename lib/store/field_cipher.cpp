#include "store/field_cipher.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "banyan/errors.hpp"
#include "util/encoding.hpp"

namespace banyan::store {

namespace {

constexpr std::string_view kPrefix = "enc1:";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

[[noreturn]] void bad_keys(const std::string& why) {
  throw ValidationError("encryption_keys: " + why, "encryption_keys");
}

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string_view trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

CipherCtx new_ctx() {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw InternalError("out of memory for a cipher context");
  return ctx;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

EncryptionKeys EncryptionKeys::parse(std::string_view text) {
  EncryptionKeys out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto end = text.find_first_of("\n;");
    const std::string_view line = trimmed(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    const std::string where = "line " + std::to_string(line_no);
    if (colon == std::string_view::npos) bad_keys(where + " is not \"<id>:<base64 key>\"");
    const std::string_view id = trimmed(line.substr(0, colon));
    if (!valid_id(id)) bad_keys(where + ": a key id is 1 to 32 of A-Z a-z 0-9 _ -");
    std::string secret;
    if (!util::base64_decode_any(trimmed(line.substr(colon + 1)), secret) ||
        secret.size() != kKeyBytes)
      bad_keys(where + " (key '" + std::string(id) + "'): the key must be 32 bytes in base64");
    for (const Key& k : out.keys_)
      if (k.id == id) bad_keys("key id '" + std::string(id) + "' appears twice");
    out.keys_.push_back({std::string(id), std::move(secret)});
  }
  if (out.keys_.empty()) bad_keys("no key given");
  return out;
}

EncryptionKeys EncryptionKeys::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Unavailable("cannot read the key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

std::optional<EncryptionKeys> EncryptionKeys::from_environment() {
  if (const char* path = std::getenv("BANYAN_ENCRYPTION_KEY_FILE"); path && *path)
    return load_file(path);
  if (const char* text = std::getenv("BANYAN_ENCRYPTION_KEYS"); text && *text) return parse(text);
  return std::nullopt;
}

EncryptionKeys EncryptionKeys::single_audit_key(EncryptionKeys keys) {
  if (keys.keys_.size() != 1)
    throw ValidationError("audit_key: give exactly one key (the audit trail is keyed with one key)",
                          "audit_key");
  return keys;
}

std::optional<EncryptionKeys> EncryptionKeys::audit_key_from_environment() {
  if (const char* path = std::getenv("BANYAN_AUDIT_KEY_FILE"); path && *path)
    return single_audit_key(load_file(path));
  if (const char* text = std::getenv("BANYAN_AUDIT_KEY"); text && *text)
    return single_audit_key(parse(text));
  return std::nullopt;
}

std::string EncryptionKeys::generate_line(std::string_view id) {
  if (!valid_id(id)) bad_keys("a key id is 1 to 32 of A-Z a-z 0-9 _ -");
  return std::string(id) + ":" + util::base64url_encode(util::random_bytes(kKeyBytes));
}

namespace detail {

FieldCipher::FieldCipher(const EncryptionKeys& keys) {
  for (const auto& k : keys.keys()) {
    keys_.push_back({k.id, util::hmac_sha256(k.secret, "banyan field seal v1"),
                     util::hmac_sha256(k.secret, "banyan blind index v1"),
                     util::hex(util::hmac_sha256(k.secret, "banyan key check v1"))});
  }
  if (keys_.empty()) throw ValidationError("encryption_keys: no key given", "encryption_keys");
}

const FieldCipher::Subkeys* FieldCipher::find(std::string_view id) const {
  for (const auto& k : keys_)
    if (k.id == id) return &k;
  return nullptr;
}

bool FieldCipher::is_sealed(std::string_view stored) { return stored.starts_with(kPrefix); }

bool FieldCipher::is_current(std::string_view stored) const {
  if (!is_sealed(stored)) return false;
  const std::string_view rest = stored.substr(kPrefix.size());
  return rest.starts_with(current_id()) && rest.size() > current_id().size() &&
         rest[current_id().size()] == ':';
}

std::string FieldCipher::seal(std::string_view plain, std::string_view place) const {
  const Subkeys& key = keys_.back();
  std::string blob(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(blob.data());
  if (RAND_bytes(out, static_cast<int>(kNonceBytes)) != 1)
    throw InternalError("no randomness for a nonce");
  CipherCtx ctx = new_ctx();
  int n = 0;  // GCM is a stream mode: the output is exactly as long as the input
  const bool ok =
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key.seal), out) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(place), static_cast<int>(place.size())) ==
          1 &&
      EVP_EncryptUpdate(ctx.get(), out + kNonceBytes, &n, bytes(plain),
                        static_cast<int>(plain.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), out + kNonceBytes + plain.size(), &n) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          out + kNonceBytes + plain.size()) == 1;
  if (!ok) throw InternalError("AES-256-GCM sealing failed");
  return std::string(kPrefix) + key.id + ":" + util::base64url_encode(blob);
}

std::string FieldCipher::open(std::string_view stored, std::string_view place) const {
  if (!is_sealed(stored)) return std::string(stored);
  const std::string_view rest = stored.substr(kPrefix.size());
  const auto colon = rest.find(':');
  const std::string_view id = rest.substr(0, colon);
  const Subkeys* key = colon == std::string_view::npos ? nullptr : find(id);
  if (key == nullptr) {
    throw Unavailable("a value of " + std::string(place) + " is encrypted with key '" +
                      std::string(id.substr(0, 32)) +
                      "', which is not among the configured encryption keys");
  }
  std::string blob;
  if (!util::base64url_decode(rest.substr(colon + 1), blob) ||
      blob.size() < kNonceBytes + kTagBytes)
    throw Unavailable("a value of " + std::string(place) + " is damaged: not a sealed value");
  const std::size_t size = blob.size() - kNonceBytes - kTagBytes;
  std::string plain(size, '\0');
  auto* in = reinterpret_cast<unsigned char*>(blob.data());
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  CipherCtx ctx = new_ctx();
  int n = 0;
  const bool ok =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key->seal), in) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(place), static_cast<int>(place.size())) ==
          1 &&
      EVP_DecryptUpdate(ctx.get(), out, &n, in + kNonceBytes, static_cast<int>(size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          in + kNonceBytes + size) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out + n, &n) == 1;
  if (!ok) {
    throw Unavailable("a value of " + std::string(place) + " does not open with key '" + key->id +
                      "': it was altered or belongs elsewhere");
  }
  return plain;
}

std::string FieldCipher::blind_index(std::string_view normalized) const {
  return util::hex(util::hmac_sha256(keys_.back().index, normalized)).substr(0, 32);
}

std::vector<std::string> FieldCipher::blind_indexes(std::string_view normalized) const {
  std::vector<std::string> out;
  for (const auto& k : keys_)
    out.push_back(util::hex(util::hmac_sha256(k.index, normalized)).substr(0, 32));
  return out;
}

std::vector<FieldCipher::KeyCheck> FieldCipher::fingerprints() const {
  std::vector<KeyCheck> out;
  for (const auto& k : keys_) out.push_back({k.id, k.check});
  return out;
}

std::string normalized_email(std::string_view email) {
  std::string out(trimmed(email));
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

}  // namespace detail
}  // namespace banyan::store
