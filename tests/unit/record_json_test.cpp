// Records as JSON text (the response path) say exactly what the JSON object says.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "rest/record_json.hpp"

namespace banyan::rest {
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
  const json values[] = {nullptr,
                         true,
                         false,
                         0,
                         -1,
                         std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::uint64_t>::max(),
                         2.5,
                         "",
                         "plain ascii ~",
                         "quote \" here",
                         "back\\slash",
                         "tab\there",
                         std::string("nul\0byte", 8),
                         "\x7f del",
                         "Zoë",
                         json::array({1, "a"}),
                         json{{"k", "v"}}};
  for (const auto& v : values) {
    std::string text;
    append_json_value(v, text);
    EXPECT_EQ(text, v.dump()) << v.dump();
  }
}

}  // namespace
}  // namespace banyan::rest
