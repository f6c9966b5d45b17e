// The hosts' log: one JSON line per event, with the time, the level and the host.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "host_log.hpp"

namespace banyan::host {
namespace {

using nlohmann::json;

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(json::parse(line));  // throws, failing the test, if a line is not JSON
  return lines;
}

TEST(HostLog, EachEventIsOneJsonLineWithTimeLevelAndHost) {
  std::ostringstream out;
  {
    HostLog log("banyan-test", LogLevel::kInfo, out);
    log.write(LogEvent(LogLevel::kInfo, "request")
                  .with("target", "/v1/x?q=\"\n")
                  .with("status", std::int64_t{422}));
    log.say(LogLevel::kError, "failed", "it broke");
  }  // written by the time the log is gone
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["host"], "banyan-test");
  EXPECT_EQ(lines[0]["event"], "request");
  EXPECT_EQ(lines[0]["target"], "/v1/x?q=\"\n");
  EXPECT_EQ(lines[0]["status"], 422);
  const std::string time = lines[0]["time"];
  ASSERT_EQ(time.size(), 27u) << time;  // 2026-12-06T20:46:24.123456Z
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_EQ(lines[1]["level"], "error");
  EXPECT_EQ(lines[1]["message"], "it broke");
}

TEST(HostLog, EventsBelowItsLevelAreDropped) {
  std::ostringstream out;
  {
    HostLog log("banyan-test", LogLevel::kWarning, out);
    log.write(LogEvent(LogLevel::kDebug, "noise"));
    log.say(LogLevel::kInfo, "request", "a request");
    log.sink()(LogEvent(LogLevel::kWarning, "relay_lease_lost"));
  }
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 1u) << out.str();
  EXPECT_EQ(lines[0]["event"], "relay_lease_lost");
  EXPECT_EQ(lines[0]["level"], "warning");
}

}  // namespace
}  // namespace banyan::host
