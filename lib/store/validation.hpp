// Checks shared by every record type: text well-formedness and lengths, emails, codes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "banyan/model/fields.hpp"

namespace banyan::store::detail {

// Short text columns hold at most this many characters (code points).
inline constexpr std::size_t kShortTextMax = 255;
// Long text (activity bodies) holds at most this many bytes.
inline constexpr std::size_t kLongTextMaxBytes = 1 << 20;

// Each throws ValidationError naming `field` when the check fails.

// Valid UTF-8, no NUL byte, at most `max_chars` code points.
void check_text(std::string_view field, std::string_view value,
                std::size_t max_chars = kShortTextMax);
void check_text(std::string_view field, const std::optional<std::string>& value,
                std::size_t max_chars = kShortTextMax);
inline void check_text(std::string_view field, const std::string& value,
                       std::size_t max_chars = kShortTextMax) {
  check_text(field, std::string_view(value), max_chars);
}
// Like check_text, and not empty or blank.
void check_required(std::string_view field, std::string_view value);
// A plausible address: local@domain.tld, no spaces, at most 254 characters.
void check_email(std::string_view field, std::string_view value);
void check_email(std::string_view field, const std::optional<std::string>& value);
inline void check_email(std::string_view field, const std::string& value) {
  check_email(field, std::string_view(value));
}
// Three upper-case ASCII letters (ISO 4217 shape).
void check_currency(std::string_view field, std::string_view value);
void check_range(std::string_view field, long long value, long long min, long long max);

bool valid_utf8(std::string_view s) noexcept;

// The texts among T's writable standard fields (banyan/model/fields.hpp): a kRequired one
// not blank, every one well-formed and within its length (kLongText: kLongTextMaxBytes).
// The checks particular to a field (an email's shape, a tag's colour) are Entity<T>'s.
template <typename T>
void check_standard_texts(const T& record) {
  for (const auto& f : standard_fields<T>()) {
    if (!f.has(kWritable)) continue;
    const std::size_t max = f.has(kLongText) ? kLongTextMaxBytes : kShortTextMax;
    if (const auto* text = std::get_if<std::string T::*>(&f.member)) {
      if (f.has(kRequired)) {
        check_required(f.name, record.**text);
      } else {
        check_text(f.name, record.**text, max);
      }
    } else if (const auto* optional = std::get_if<std::optional<std::string> T::*>(&f.member)) {
      check_text(f.name, record.**optional, max);
    }
  }
}

}  // namespace banyan::store::detail
