// Records as JSON text (the response path) say exactly what the JSON object says.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace banyan::server
