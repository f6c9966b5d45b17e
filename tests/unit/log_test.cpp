// The library's log events: JSON members escaped as they are added, levels by name.
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "banyan/log.hpp"

namespace banyan {
namespace {

using nlohmann::json;

TEST(LogEvent, ItsMembersAreOneJsonObjectWithTheEventNameFirst) {
  const LogEvent event = LogEvent(LogLevel::kWarning, "relay_lease_lost")
                             .with("node", "a")
                             .with("attempts", std::int64_t{-3})
                             .with_fixed("duration_ms", 1.23456, 3);
  EXPECT_EQ(event.level(), LogLevel::kWarning);
  EXPECT_EQ(event.members(), R"("event":"relay_lease_lost","node":"a","attempts":-3,)"
                             R"("duration_ms":1.235)");
  EXPECT_EQ(event.json(), "{" + event.members() + "}");
}

TEST(LogEvent, HostileTextStaysInsideItsStringAndInvalidUtf8IsReplaced) {
  const std::string hostile = "a\"b\\c\nd\x01\xff\"}, \"level\":\"debug";
  const json parsed = json::parse(
      LogEvent(LogLevel::kInfo, "request").with("target", hostile).with("key\"quoted", "x").json());
  EXPECT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed["event"], "request");
  EXPECT_EQ(parsed["target"], "a\"b\\c\nd\x01\xEF\xBF\xBD\"}, \"level\":\"debug");
  EXPECT_EQ(parsed["key\"quoted"], "x");
  EXPECT_FALSE(parsed.contains("level"));
}

TEST(LogEvent, ANumberTooLargeToWriteFixedIsNull) {
  const json parsed = json::parse(
      LogEvent(LogLevel::kInfo, "x").with_fixed("v", std::numeric_limits<double>::max(), 3).json());
  EXPECT_TRUE(parsed["v"].is_null());
}

TEST(LogLevelNames, EachLevelReadsBackFromItsNameAndOthersAreRefused) {
  for (const LogLevel level :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError})
    EXPECT_EQ(parse_log_level(level_name(level)), level);
  EXPECT_EQ(level_name(LogLevel::kWarning), "warning");
  EXPECT_THROW(static_cast<void>(parse_log_level("warn")), ValidationError);
  EXPECT_THROW(static_cast<void>(parse_log_level("")), ValidationError);
  EXPECT_THROW(static_cast<void>(parse_log_level("INFO")), ValidationError);
}

}  // namespace
}  // namespace banyan
