#include "store/validation.hpp"

#include <algorithm>
#include <cstdint>

#include "banyan/errors.hpp"

namespace banyan::store::detail {
namespace {

[[noreturn]] void invalid(std::string_view field, const std::string& why) {
  throw ValidationError(std::string(field) + ": " + why, std::string(field));
}

// Counts code points of valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
// Returns npos for invalid input.
std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t count = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return std::string_view::npos;
    }
    if (static_cast<std::size_t>(end - p) < n) return std::string_view::npos;
    for (std::size_t i = 1; i < n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return std::string_view::npos;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    const bool overlong =
        (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::string_view::npos;
    p += n;
    ++count;
  }
  return count;
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept { return utf8_length(s) != std::string_view::npos; }

void check_text(std::string_view field, std::string_view value, std::size_t max_chars) {
  if (value.find('\0') != std::string_view::npos) invalid(field, "contains a NUL byte");
  const std::size_t length = utf8_length(value);
  if (length == std::string_view::npos) invalid(field, "is not valid UTF-8");
  if (max_chars == kLongTextMaxBytes) {
    if (value.size() > kLongTextMaxBytes) invalid(field, "is longer than 1 MiB");
  } else if (length > max_chars) {
    invalid(field, "is longer than " + std::to_string(max_chars) + " characters");
  }
}

void check_text(std::string_view field, const std::optional<std::string>& value,
                std::size_t max_chars) {
  if (value) check_text(field, *value, max_chars);
}

void check_required(std::string_view field, std::string_view value) {
  check_text(field, value);
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }))
    invalid(field, "is required");
}

void check_email(std::string_view field, std::string_view value) {
  check_text(field, value);
  const auto at = value.find('@');
  const bool shape_ok = at != std::string_view::npos && at > 0 && at + 1 < value.size() &&
                        value.find('@', at + 1) == std::string_view::npos && value.size() <= 254;
  const std::string_view domain = shape_ok ? value.substr(at + 1) : std::string_view();
  const bool domain_ok = shape_ok && domain.find('.') != std::string_view::npos &&
                         domain.front() != '.' && domain.back() != '.' &&
                         domain.find("..") == std::string_view::npos;
  const bool no_space = std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';' || c == '<' ||
           c == '>';
  });
  if (!domain_ok || !no_space) invalid(field, "is not a valid email address");
}

void check_email(std::string_view field, const std::optional<std::string>& value) {
  if (value) check_email(field, *value);
}

void check_currency(std::string_view field, std::string_view value) {
  const bool ok = value.size() == 3 && std::all_of(value.begin(), value.end(),
                                                   [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) invalid(field, "must be a three-letter ISO 4217 code such as USD");
}

void check_range(std::string_view field, long long value, long long min, long long max) {
  if (value < min || value > max)
    invalid(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
}

}  // namespace banyan::store::detail
