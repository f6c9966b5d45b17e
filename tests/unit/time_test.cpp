// Times and dates as text (banyan/model/time.hpp): what the edges write and what they read.
#include <gtest/gtest.h>

#include "banyan/model/time.hpp"

namespace banyan {
namespace {

using namespace std::chrono;

Timestamp at(int y, unsigned mo, unsigned d, int h, int mi, int s, long us = 0) {
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s} + microseconds{us};
}

TEST(Timestamps, AreWrittenInUtcWithSixFractionDigits) {
  EXPECT_EQ(format_timestamp(at(2026, 1, 2, 3, 4, 5, 67)), "2026-01-02T03:04:05.000067Z");
  EXPECT_EQ(format_timestamp(Timestamp{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_timestamp(at(9999, 12, 31, 23, 59, 59, 999999)), "9999-12-31T23:59:59.999999Z");
}

TEST(Timestamps, ReadAnyRfc3339OffsetAsTheUtcInstant) {
  const Timestamp ten = at(2019, 2, 11, 10, 0, 0);
  EXPECT_EQ(parse_timestamp("2019-02-11T10:00:00Z"), ten);
  EXPECT_EQ(parse_timestamp("2019-02-11t10:00:00z"), ten);
  EXPECT_EQ(parse_timestamp("2019-02-11T10:00:00+00:00"), ten);
  EXPECT_EQ(parse_timestamp("2019-02-11T10:00:00-00:00"), ten);
  EXPECT_EQ(parse_timestamp("2019-02-11T11:00:00+01:00"), ten);
  EXPECT_EQ(parse_timestamp("2019-02-11T04:30:00-05:30"), ten);
  // Across a day boundary, both ways.
  EXPECT_EQ(parse_timestamp("2019-02-12T01:00:00+15:00"), ten);
  EXPECT_EQ(parse_timestamp("2019-02-10T22:00:00-12:00"), ten);
}

TEST(Timestamps, ReadFractionsUpToMicroseconds) {
  EXPECT_EQ(parse_timestamp("2019-02-11T10:00:00.5Z"), at(2019, 2, 11, 10, 0, 0, 500000));
  EXPECT_EQ(parse_timestamp("2019-02-11T10:00:00.000001Z"), at(2019, 2, 11, 10, 0, 0, 1));
  EXPECT_EQ(parse_timestamp("2019-02-11T11:00:00.123456+01:00"), at(2019, 2, 11, 10, 0, 0, 123456));
  const Timestamp t = at(2026, 11, 29, 12, 30, 1, 42);
  EXPECT_EQ(parse_timestamp(format_timestamp(t)), t);
}

TEST(Timestamps, RefuseWhatIsNotRfc3339OrFinerThanMicroseconds) {
  for (const char* bad :
       {"", "2019-02-11", "2019-02-11T10:00:00", "2019-02-11 10:00:00Z", "2019-02-11T10:00Z",
        "2019-02-11T10:00:00.Z", "2019-02-11T10:00:00.1234567Z", "2019-02-11T24:00:00Z",
        "2019-02-11T10:60:00Z", "2019-02-11T10:00:60Z", "2019-02-30T10:00:00Z",
        "2019-02-11T10:00:00+0100", "2019-02-11T10:00:00+01", "2019-02-11T10:00:00+24:00",
        "2019-02-11T10:00:00Z ", "2019-02-11T10:00:00ZZ", "1549879200000000",
        "+2019-02-11T10:00:00Z"}) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
  }
}

TEST(Dates, AreIsoCalendarDaysBothWays) {
  EXPECT_EQ(format_date(sys_days{year{2027} / 3 / 31}), "2027-03-31");
  EXPECT_EQ(parse_date("2027-03-31"), Date(sys_days{year{2027} / 3 / 31}));
  EXPECT_EQ(parse_date("2024-02-29"), Date(sys_days{year{2024} / 2 / 29}));
  for (const char* bad : {"", "2027-3-31", "2027-02-29", "2027-13-01", "2027-03-31T00:00:00Z",
                          "20270331", "2027/03/31", " 2027-03-31", "2027-03-3x"})
    EXPECT_FALSE(parse_date(bad)) << bad;
}

}  // namespace
}  // namespace banyan
