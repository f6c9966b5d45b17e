// Times and dates as text, the one way every edge (HTTP, the CLI, the Python module's text
// arguments) writes and reads them: RFC 3339 for instants, ISO 8601 calendar dates.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan {

// "2026-11-29T10:42:57.000000Z": always UTC, always six fraction digits. Thread-safe.
BANYAN_EXPORT std::string format_timestamp(Timestamp t);
// An RFC 3339 date and time with any offset ("2019-02-11T10:00:00Z",
// "2019-02-11T11:00:00.25+01:00", "...-05:30"), as the UTC instant it names. The fraction
// may have up to six digits (the precision stored); more is refused rather than rounded.
// std::nullopt when `text` is not one (seconds 60 included).
BANYAN_EXPORT std::optional<Timestamp> parse_timestamp(std::string_view text);

// "2026-11-29".
BANYAN_EXPORT std::string format_date(Date d);
// "YYYY-MM-DD", a real calendar day; std::nullopt otherwise.
BANYAN_EXPORT std::optional<Date> parse_date(std::string_view text);

}  // namespace banyan
