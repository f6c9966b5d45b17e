// Byte encodings and digests that every layer uses: hex, base64url, SHA-256 and
// HMAC-SHA256, random bytes. Internal (lib/ only); one copy of each.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace banyan::util {

// Raw bytes as lower-case hex, two characters per byte.
std::string hex(std::string_view bytes);

// base64url without padding (RFC 4648 section 5), as JWTs and Banyan's sealed values use.
std::string base64url_encode(std::string_view bytes);
// Decodes unpadded base64url into `out`; false on a character outside the alphabet or an
// impossible length (then `out` holds no meaning).
bool base64url_decode(std::string_view text, std::string& out);
// Standard or URL-safe base64, padded or not (how operators paste keys).
bool base64_decode_any(std::string_view text, std::string& out);

// SHA-256 of `text` as lower-case hex (64 characters). InternalError if OpenSSL fails.
std::string sha256_hex(std::string_view text);
// HMAC-SHA256 of `data` under `key`: 32 raw bytes. InternalError if OpenSSL fails.
std::string hmac_sha256(std::string_view key, std::string_view data);

// `count` bytes from the operating system's cryptographic generator. InternalError if it
// fails.
std::string random_bytes(std::size_t count);

// Appends `text` to `out` as a JSON string, quoted and escaped; bytes that are not UTF-8
// become U+FFFD.
void append_json_string(std::string_view text, std::string& out);

}  // namespace banyan::util
