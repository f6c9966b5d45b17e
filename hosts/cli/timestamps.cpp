#include "timestamps.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>

namespace banyan::cli {
namespace {

// `width` decimal digits of `v` (which fits), zero-padded.
char* put_digits(char* at, long v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10) at[i] = static_cast<char>('0' + v % 10);
  return at + width;
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
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d.%06ldZ", year, static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                  static_cast<long>(time.subseconds().count()));
    return out;
  }
  char* at = put_digits(out, year, 4);
  *at++ = '-';
  at = put_digits(at, static_cast<unsigned>(ymd.month()), 2);
  *at++ = '-';
  at = put_digits(at, static_cast<unsigned>(ymd.day()), 2);
  *at++ = 'T';
  at = put_digits(at, time.hours().count(), 2);
  *at++ = ':';
  at = put_digits(at, time.minutes().count(), 2);
  *at++ = ':';
  at = put_digits(at, time.seconds().count(), 2);
  *at++ = '.';
  at = put_digits(at, time.subseconds().count(), 6);
  *at++ = 'Z';
  return std::string(out, at);
}

bool parse_timestamp(const std::string& text, Timestamp& out) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 || used != 19)
    return false;
  std::int64_t micros = 0;
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    int digits = 0;
    for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at, ++digits) {
      if (digits < 6) micros = micros * 10 + (text[at] - '0');
    }
    if (digits == 0) return false;
    for (; digits < 6; ++digits) micros *= 10;
  }
  if (at + 1 != text.size() || (text[at] != 'Z' && text[at] != 'z')) return false;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return false;
  out = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
        std::chrono::seconds(sec) + std::chrono::microseconds(micros);
  return true;
}

}  // namespace banyan::cli
