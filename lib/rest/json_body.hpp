// Request bodies as JSON, read in time linear in their length, within limits that an
// attacker's body reaches at once rather than after a long parse.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "banyan/rest/api.hpp"

namespace banyan::rest {

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

}  // namespace banyan::rest
