// Request bodies as JSON, read in time linear in their length, within limits that an
// attacker's body reaches at once rather than after a long parse.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace banyan::server {

struct JsonLimits {
  int max_depth = 32;                       // nesting of objects and arrays
  std::size_t max_string_bytes = 64 << 10;  // one string or key
  std::size_t max_members = 1000;           // members in one object
  std::size_t max_elements = 10000;         // elements in one array
};

// Why a body was refused: `status` 400 (not JSON: syntax, duplicate key, depth, a string
// too long, bytes after the document) or 413 (an object or array past its limit).
struct JsonRefused : std::runtime_error {
  JsonRefused(int refused_with, const std::string& detail)
      : std::runtime_error(detail), status(refused_with) {}
  int status;
};

// Parses `text` as exactly one JSON document: no duplicate keys in an object, nothing
// after the document (a NUL byte included). One pass over the text, constant work per
// token (a key is checked against its object's members by lookup, not by scan), and the
// first limit crossed stops the parse there. Throws JsonRefused. Thread-safe.
nlohmann::json parse_json_within(std::string_view text, const JsonLimits& limits);

}  // namespace banyan::server
