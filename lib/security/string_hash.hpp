// Hashing for unordered maps keyed by std::string that are looked up with a string_view,
// so a lookup on the request path allocates nothing.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace banyan::security::detail {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace banyan::security::detail
