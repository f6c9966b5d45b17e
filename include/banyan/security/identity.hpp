// A user as an identity provider knows it.
#pragma once

#include <string>

#include "banyan/export.hpp"

namespace banyan::security {

// A user as an identity provider knows it: a token's issuer ("iss") and subject ("sub").
struct BANYAN_EXPORT Identity {
  std::string issuer;
  std::string subject;
  bool operator==(const Identity&) const = default;
};

}  // namespace banyan::security
