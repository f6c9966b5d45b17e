// Request bodies are read in one pass with limits that refuse hostile shapes at once:
// many keys in one object, many elements in one array, duplicate keys, deep nesting and
// bytes after the document. (How long the worst shapes take is measured in bench/, not here.)
#include <gtest/gtest.h>

#include <string>

#include "rest/json_body.hpp"

namespace banyan::rest {
namespace {

// {"k0":0,"k1":0,...} with `n` members.
std::string object_with_keys(std::size_t n) {
  std::string body = "{";
  for (std::size_t i = 0; i < n; ++i) body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  return body + "}";
}

// {"items":[{},{},...]} with `n` empty objects.
std::string array_of_empty_objects(std::size_t n) {
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < n; ++i) body += i ? ",{}" : "{}";
  return body + "]}";
}

int refusal_status(const std::string& body, const JsonLimits& limits = {}) {
  try {
    parse_json_within(body, limits);
  } catch (const JsonRefused& e) {
    return e.status;
  }
  return 0;
}

TEST(JsonBody, ReadsAnOrdinaryDocumentWhole) {
  const auto doc = parse_json_within(R"({"a":[1,2.5,"x",null,true,{"b":{}}],"c":-3})", {});
  EXPECT_EQ(doc["a"].size(), 6u);
  EXPECT_EQ(doc["a"][5]["b"], nlohmann::json::object());
  EXPECT_EQ(doc["c"], -3);
  EXPECT_EQ(parse_json_within("  [ ]\n", {}), nlohmann::json::array());
}

TEST(JsonBody, AnObjectPastTheMemberLimitIs413) {
  // The review's shape: 87,000 keys in one object (about 1 MiB).
  EXPECT_EQ(refusal_status(object_with_keys(87000)), 413);
  EXPECT_EQ(refusal_status(object_with_keys(1001)), 413);
  EXPECT_EQ(refusal_status(object_with_keys(1000)), 0);
}

TEST(JsonBody, AnArrayPastTheElementLimitIs413) {
  // The review's other shape: 100,000 empty objects in one array.
  EXPECT_EQ(refusal_status(array_of_empty_objects(100000)), 413);
  EXPECT_EQ(refusal_status(array_of_empty_objects(10001)), 413);
  EXPECT_EQ(refusal_status(array_of_empty_objects(10000)), 0);
}

TEST(JsonBody, RaisedLimitsReadTheLargeShapesWhole) {
  JsonLimits wide;
  wide.max_members = 200000;
  wide.max_elements = 200000;
  EXPECT_EQ(parse_json_within(object_with_keys(87000), wide).size(), 87000u);
  EXPECT_EQ(parse_json_within(array_of_empty_objects(100000), wide)["items"].size(), 100000u);
}

TEST(JsonBody, ADuplicateKeyIsFoundWhereverItIs) {
  std::string late = object_with_keys(999);
  late.insert(late.size() - 1, ",\"k3\":1");
  EXPECT_EQ(refusal_status(late), 400);
  EXPECT_EQ(refusal_status(R"({"a":{"x":1,"x":2}})"), 400);
  // The same key in sibling objects is no duplicate.
  EXPECT_EQ(refusal_status(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":1}]})"), 0);
}

TEST(JsonBody, NestingPastTheDepthLimitIs400) {
  JsonLimits limits;
  limits.max_depth = 4;
  EXPECT_EQ(refusal_status("[[[[1]]]]", limits), 0);
  EXPECT_EQ(refusal_status("[[[[[1]]]]]", limits), 400);
  EXPECT_EQ(refusal_status(std::string(100000, '[') + std::string(100000, ']')), 400);
  EXPECT_EQ(refusal_status("{\"a\":" + std::string(100000, '{')), 400);
}

TEST(JsonBody, BytesAfterTheDocumentAreRefusedANulIncluded) {
  EXPECT_EQ(refusal_status(R"({"a":1} {"b":2})"), 400);
  EXPECT_EQ(refusal_status(R"({"a":1}x)"), 400);
  EXPECT_EQ(refusal_status(std::string("{\"a\":1}\0", 8)), 400);
  EXPECT_EQ(refusal_status(std::string("{\"a\":1}\0{\"b\":2}", 15)), 400);
  EXPECT_EQ(refusal_status(std::string("{\"a\":\"x\0y\"}", 11)), 400);
  EXPECT_EQ(refusal_status("{\"a\":1}\n\t "), 0);  // whitespace is allowed
}

TEST(JsonBody, LongStringsAndKeysAre400) {
  JsonLimits limits;
  limits.max_string_bytes = 8;
  EXPECT_EQ(refusal_status(R"({"a":"12345678"})", limits), 0);
  EXPECT_EQ(refusal_status(R"({"a":"123456789"})", limits), 400);
  EXPECT_EQ(refusal_status(R"({"123456789":1})", limits), 400);
}

TEST(JsonBody, SyntaxErrorsAre400) {
  for (const char* body :
       {"", "{", "{\"a\":}", "{'a':1}", "[1,]", "nul", "{\"a\":1e999999}", "\"\\ud800\""})
    EXPECT_EQ(refusal_status(body), 400) << body;
}

}  // namespace
}  // namespace banyan::rest
