// Ways to reach a contact, lead or company beyond its one email and phone: every email
// address and phone number it has, each with a label and a primary flag, and its postal
// addresses. The primary email (or phone) is also the record's `email` (`phone`) field;
// the store keeps the two in step (docs/design.md, "Contact points").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"

namespace banyan {

// An email address or a phone number.
struct BANYAN_EXPORT ContactPoint {
  std::string value;  // an email address (valid) or a phone number (non-blank)
  std::string label;  // "work", "home", ...; empty for none
  bool primary = false;

  friend bool operator==(const ContactPoint&, const ContactPoint&) = default;
};

enum class AddressKind { kBilling, kShipping, kMailing, kOther };
BANYAN_EXPORT std::string_view to_string(AddressKind kind) noexcept;
// Throws ValidationError (field "kind") for an unknown name.
BANYAN_EXPORT AddressKind parse_address_kind(std::string_view name);

// A postal address. At least one part is required; `country` is an ISO 3166-1 alpha-2
// code ("DE"), stored in upper case.
struct BANYAN_EXPORT Address {
  AddressKind kind = AddressKind::kOther;
  std::string label;  // empty for none
  bool primary = false;
  std::optional<std::string> street;  // may span lines
  std::optional<std::string> city;
  std::optional<std::string> region;  // state, province, county
  std::optional<std::string> postal_code;
  std::optional<std::string> country;

  friend bool operator==(const Address&, const Address&) = default;
};

using ContactPoints = std::vector<ContactPoint>;
using Addresses = std::vector<Address>;

// How long the lists may be: emails and phones each, and addresses.
inline constexpr std::size_t kMaxContactPoints = 20;
inline constexpr std::size_t kMaxAddresses = 10;

}  // namespace banyan
