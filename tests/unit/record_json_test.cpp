// Records as JSON text (the response path) say exactly what the JSON object says.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "record_json.hpp"

namespace banyan::server {
namespace {

Contact sample() {
  Contact c;
  c.id = 42;
  c.version = 3;
  c.first_name = "Zoë \"Zed\"";
  c.last_name = "O'Neil\\\n\x01";
  c.email = "zoe@example.com";
  c.custom["tier"] = std::string("gold");
  c.custom["score"] = std::int64_t{7};
  return c;
}

TEST(RecordJsonText, AWholeRecordReadsBackAsItsJsonObject) {
  std::string text;
  append_json_text(sample(), {}, text);
  EXPECT_EQ(json::parse(text), to_json(sample()));
}

TEST(RecordJsonText, ASelectionKeepsTheIdAndOnlyTheNamedFields) {
  std::string text;
  append_json_text(sample(), {"email", "custom"}, text);
  EXPECT_EQ(json::parse(text), to_json(sample(), {"email", "custom"}));
  EXPECT_EQ(json::parse(text).size(), 3u);
}

TEST(RecordJsonText, InvalidUtf8InAValueIsReplacedNotThrown) {
  Contact c = sample();
  c.title = std::string("bad \xff byte");
  std::string text;
  append_json_text(c, {"title"}, text);
  EXPECT_EQ(json::parse(text)["title"], "bad \xEF\xBF\xBD byte");
}

// Every kind of value, written by hand or handed to nlohmann, is the text dump() writes.
TEST(RecordJsonText, EachValueIsWrittenAsNlohmannWouldWriteIt) {
  const json values[] = {nullptr, true, false, 0, -1, std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::uint64_t>::max(), 2.5, "", "plain ascii ~", "quote \" here",
                         "back\\slash", "tab\there", std::string("nul\0byte", 8), "\x7f del", "Zoë",
                         json::array({1, "a"}), json{{"k", "v"}}};
  for (const auto& v : values) {
    std::string text;
    append_json_value(v, text);
    EXPECT_EQ(text, v.dump()) << v.dump();
  }
}

TEST(RecordJsonText, TimestampsAreRfc3339WithMicrosecondsZeroPadded) {
  using namespace std::chrono;
  const Timestamp t = sys_days{year{2026} / 1 / 2} + hours{3} + minutes{4} + seconds{5} + microseconds{67};
  EXPECT_EQ(format_timestamp(t), "2026-01-02T03:04:05.000067Z");
  EXPECT_EQ(format_timestamp(Timestamp{}), "1970-01-01T00:00:00.000000Z");
  const Timestamp late = sys_days{year{9999} / 12 / 31} + hours{23} + minutes{59} + seconds{59} + microseconds{999999};
  EXPECT_EQ(format_timestamp(late), "9999-12-31T23:59:59.999999Z");
  Timestamp back;
  ASSERT_TRUE(parse_timestamp(format_timestamp(t), back));
  EXPECT_EQ(back, t);
}

}  // namespace
}  // namespace banyan::server
