// What every REST route shares: the parsed request target, HTTP-level refusals, RFC 9457
// problems, and the small readers of ids, times and headers that routes use.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "banyan/rest/api.hpp"
#include "record_json.hpp"

namespace banyan::rest {

// An HTTP-level refusal (before the library is asked): status, stable code, detail.
struct HttpError {
  int status;
  std::string code;
  std::string detail;
  Headers headers{};
};

// A request target: the path's segments (percent-decoded, valid UTF-8), the query's pairs
// in order, and the path as sent.
struct Target {
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;
  std::string path;
};

// Throws HttpError 400 for a target that is not a path, a malformed %-escape, or text that
// is not UTF-8.
Target parse_target(const std::string& target);
bool valid_utf8(std::string_view s);

// A problem document (application/problem+json); the request id goes in, for support.
HttpResponse problem(const std::string& request_id, int status, const std::string& code,
                     const std::string& detail, const std::string& field = {});
// The library's errors as problems: one status and code per error code.
HttpResponse problem_of(const Error& e, const std::string& request_id);
// The same problem's document without a request id (its "status" is the status).
json problem_document(const Error& e);

std::string new_request_id();
// A client's own request id is kept when it is short and plain.
bool usable_request_id(const std::string& id);
// Equal strings, compared in time that depends on their lengths only (a secret is not
// learnt a byte at a time from how long a refusal takes).
bool constant_time_equal(std::string_view a, std::string_view b);

// A record id in a path: anything but 1 to 2^64-1 in decimal is no record (404).
Id parse_id(const std::string& text);
// The first value of a query parameter.
std::optional<std::string> query_value(const Target& t, const std::string& key);
// A time in a query string. Form encoding reads '+' as a space, so a space is taken for
// the '+' it was.
std::optional<Timestamp> query_time(std::string text);
// A record's entity tag: its version, quoted ("\"3\""), strong.
std::string etag_of(std::uint64_t version);
// The version an If-Match header asks for (RFC 9110 13.1.1): none when absent or "*";
// the version of its strong tag ("\"3\"", or a bare 3); 0, which no record has, when no
// tag can match (weak tags never do); 400 when malformed or naming several versions.
std::optional<std::uint64_t> if_match(const HttpRequest& r);
// Whether If-None-Match names this version (weak comparison, W/"3" as "3") or is "*";
// a GET then answers not_modified. 400 when malformed.
bool none_match(const HttpRequest& r, std::uint64_t version);
HttpResponse not_modified(std::uint64_t version);
// Conflict("version") (a 412) unless an If-Match version, when given, is the stored one.
void check_version(const std::optional<std::uint64_t>& expected, std::uint64_t stored);

HttpError not_allowed(const std::string& method, const std::string& allow);
HttpError no_route(const Target& t);

// A body may name only these members (ValidationError naming the first other one).
void only_keys(const json& body, std::initializer_list<const char*> allowed,
               const std::string& prefix = "");
// A positive integer member: a record id.
Id body_id(const json& body, const std::string& name);

HttpResponse no_content();
HttpResponse json_response(int status, const json& body);

// A record as the answer, with its version as the ETag.
template <typename T>
HttpResponse record_response(int status, const T& record,
                             const std::vector<std::string>& fields = {}) {
  HttpResponse r;
  r.status = status;
  append_json_text(record, fields, r.body);
  r.headers.emplace_back("ETag", etag_of(record.version));
  return r;
}

}  // namespace banyan::rest
