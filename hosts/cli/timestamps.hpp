// Times as the hosts show and read them: RFC 3339 in UTC with microseconds.
#pragma once

#include <banyan/model/record.hpp>
#include <string>

namespace banyan::cli {

// "2026-11-29T10:42:57.000000Z"
std::string format_timestamp(Timestamp t);
// RFC 3339 in UTC ("2026-11-29T10:42:57Z", optional fraction up to microseconds); false
// when `text` is not one.
bool parse_timestamp(const std::string& text, Timestamp& out);

}  // namespace banyan::cli
