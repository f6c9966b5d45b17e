#include "banyan/model/time.hpp"

#include <chrono>
#include <cstdio>

namespace banyan {
namespace {

// `width` decimal digits of `v` (which fits), zero-padded.
char* put_digits(char* at, long v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10) at[i] = static_cast<char>('0' + v % 10);
  return at + width;
}

// Reads exactly `width` digits at `at`; -1 when they are not all digits.
int digits(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

char* put_date(char* at, const std::chrono::year_month_day& ymd) {
  at = put_digits(at, static_cast<int>(ymd.year()), 4);
  *at++ = '-';
  at = put_digits(at, static_cast<unsigned>(ymd.month()), 2);
  *at++ = '-';
  return put_digits(at, static_cast<unsigned>(ymd.day()), 2);
}

}  // namespace

std::string format_timestamp(Timestamp t) {
  // By hand, not snprintf: every record has two, and a GET's snprintf calls were 3% of it.
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss<std::chrono::microseconds> time{t - days};
  const int year = static_cast<int>(ymd.year());
  char out[40];
  if (year < 0 || year > 9999) {  // outside RFC 3339's four digits: as printf writes it
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d.%06ldZ", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()),
                  static_cast<long>(time.subseconds().count()));
    return out;
  }
  char* at = put_date(out, ymd);
  *at++ = 'T';
  at = put_digits(at, time.hours().count(), 2);
  *at++ = ':';
  at = put_digits(at, time.minutes().count(), 2);
  *at++ = ':';
  at = put_digits(at, time.seconds().count(), 2);
  *at++ = '.';
  at = put_digits(at, time.subseconds().count(), 6);
  *at++ = 'Z';
  return {out, at};
}

std::optional<Timestamp> parse_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM)
  const auto day = parse_date(text.substr(0, 10));
  if (!day || text.size() < 20 || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  const int h = digits(text, 11, 2), mi = digits(text, 14, 2), sec = digits(text, 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return std::nullopt;
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (text[at] == '.') {
    std::size_t n = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++n) {
      if (n == 6) return std::nullopt;  // finer than the microseconds kept
      micros = micros * 10 + (text[at] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) micros *= 10;
  }
  if (at >= text.size()) return std::nullopt;
  std::chrono::minutes offset{0};
  if (text[at] == 'Z' || text[at] == 'z') {
    ++at;
  } else if (text[at] == '+' || text[at] == '-') {
    const int oh = digits(text, at + 1, 2), om = digits(text, at + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59 || text.size() < at + 6 || text[at + 3] != ':')
      return std::nullopt;
    offset = std::chrono::minutes(oh * 60 + om);
    if (text[at] == '-') offset = -offset;
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  // The local time minus its offset is UTC.
  return Timestamp(std::chrono::sys_days(*day) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                   std::chrono::seconds(sec) + std::chrono::microseconds(micros) - offset);
}

std::string format_date(Date d) {
  char out[16];
  const std::chrono::year_month_day ymd{d};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", year, static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return out;
  }
  return {out, put_date(out, ymd)};
}

std::optional<Date> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const int y = digits(text, 0, 4), m = digits(text, 5, 2), d = digits(text, 8, 2);
  if (y < 0 || m < 0 || d < 0) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(m)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

}  // namespace banyan
