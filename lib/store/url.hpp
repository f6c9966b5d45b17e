// Parsing of database URLs into the island's connection spec.
#pragma once

#include <string_view>

#include "store/odb/island.hpp"

namespace banyan::store::detail {

// sqlite:///abs/path, sqlite://rel/path, sqlite::memory:,
// mysql://user:pw@host:port/db?socket=...&connect_timeout=5&read_timeout=30&write_timeout=30
// (timeouts in seconds, 1 to 3600; the defaults shown).
// Throws ValidationError("url") with what is wrong.
island::ConnectionSpec parse_database_url(std::string_view url);

}  // namespace banyan::store::detail
