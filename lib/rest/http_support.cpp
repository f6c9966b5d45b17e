#include "http_support.hpp"

#include <algorithm>
#include <cctype>
#include <random>

namespace banyan::rest {

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      if (i + 2 >= in.size())
        throw HttpError{400, "bad_request", "a malformed %-escape in the URL"};
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) throw HttpError{400, "bad_request", "a malformed %-escape in the URL"};
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Equal strings, compared in time that depends on their lengths only (a secret is not

}  // namespace

namespace {
json problem_body(int status, const std::string& code, const std::string& detail,
                  const std::string& field) {
  json body{{"type", "https://banyan.dev/problems/" + code},
            {"title", reason_phrase(status)},
            {"status", status},
            {"code", code},
            {"detail", detail}};
  if (!field.empty()) body["field"] = field;
  return body;
}

HttpResponse problem_response(json body, const std::string& request_id) {
  body["request_id"] = request_id;
  HttpResponse r;
  r.status = body["status"].get<int>();
  r.content_type = "application/problem+json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}
}  // namespace

HttpResponse problem(const std::string& request_id, int status, const std::string& code,
                     const std::string& detail, const std::string& field) {
  return problem_response(problem_body(status, code, detail, field), request_id);
}

json problem_document(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kNotFound:
      return problem_body(404, "not_found", e.what(), {});
    case ErrorCode::kConflict:
      if (e.field() == "version") return problem_body(412, "stale_version", e.what(), "version");
      return problem_body(409, "conflict", e.what(), e.field());
    case ErrorCode::kValidation:
      return problem_body(422, "validation", e.what(), e.field());
    case ErrorCode::kPermissionDenied:
      return problem_body(403, "permission_denied", e.what(), e.field());
    case ErrorCode::kRateLimited:
      return problem_body(429, "rate_limited", e.what(), {});
    case ErrorCode::kPoolExhausted:
      return problem_body(503, "pool_exhausted", e.what(), {});
    case ErrorCode::kUnavailable:
      return problem_body(503, "unavailable", e.what(), {});
    case ErrorCode::kInternal:
      break;
  }
  return problem_body(500, "internal", "the server failed on this request", {});
}

HttpResponse problem_of(const Error& e, const std::string& id) {
  HttpResponse r = problem_response(problem_document(e), id);
  // Every 503 says when to come back, as the handler deadline's does: the pool or the
  // database is busy or away for now, and a client that waits a second may get through.
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::uint64_t v = rng();
  for (int i = 0; i < 16; ++i, v >>= 4) out += kHex[v & 15];
  return out;
}

bool usable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80)
      n = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      n = 1;
    else if (c >= 0xE0 && c <= 0xEF)
      n = 2;
    else if (c >= 0xF0 && c <= 0xF4)
      n = 3;
    else
      return false;  // a continuation byte, an overlong lead, or beyond U+10FFFF
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    const auto c1 = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) ||  // overlong, surrogate
        (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))    // overlong, too large
      return false;
    i += n + 1;
  }
  return true;
}

Target parse_target(const std::string& target) {
  Target t;
  const auto q = target.find('?');
  t.path = target.substr(0, q);
  if (t.path.empty() || t.path[0] != '/')
    throw HttpError{400, "bad_request", "the request target must be a path"};
  for (const auto& segment : split(t.path, '/')) t.segments.push_back(percent_decode(segment));
  if (q != std::string::npos) {
    std::string_view rest(target);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
      const auto amp = std::min(rest.find('&'), rest.size());
      const auto pair = rest.substr(0, amp);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        t.query.emplace_back(
            percent_decode(pair.substr(0, eq)),
            eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1)));
      }
      rest.remove_prefix(std::min(amp + 1, rest.size()));
    }
  }
  for (const auto& s : t.segments)
    if (!valid_utf8(s)) throw HttpError{400, "bad_request", "the path is not valid UTF-8"};
  for (const auto& [k, v] : t.query)
    if (!valid_utf8(k) || !valid_utf8(v))
      throw HttpError{400, "bad_request", "the query is not valid UTF-8"};
  return t;
}

Id parse_id(const std::string& text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 19) throw HttpError{404, "not_found", "no such record"};
  for (char c : text) {
    if (c < '0' || c > '9') throw HttpError{404, "not_found", "no such record"};
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v == 0) throw HttpError{404, "not_found", "no such record"};
  return v;
}

// An offset written as "+01:00" without %2B arrives as " 01:00": no RFC 3339 time has a
// space, so a space there is the '+' it was.
std::optional<Timestamp> query_time(std::string text) {
  std::replace(text.begin(), text.end(), ' ', '+');
  return parse_timestamp(text);
}

HttpError not_allowed(const std::string& method, const std::string& allow) {
  return HttpError{405, "method_not_allowed", method + " is not allowed here", {{"Allow", allow}}};
}

void check_version(const std::optional<std::uint64_t>& expected, std::uint64_t stored) {
  if (expected && *expected != stored)
    throw Conflict(
        "the record is at version " + std::to_string(stored) + ", not " + std::to_string(*expected),
        "version");
}

HttpResponse no_content() {
  HttpResponse out;
  out.status = 204;
  return out;
}

HttpError no_route(const Target& t) { return HttpError{404, "no_route", "no route for " + t.path}; }

std::optional<std::string> query_value(const Target& t, const std::string& key) {
  for (const auto& [k, v] : t.query)
    if (k == key) return v;
  return std::nullopt;
}

namespace {
// The entity tags of an If-Match or If-None-Match header (RFC 9110 8.8.3, 13.1.1-2): "*",
// or a comma-separated list of "opaque" or W/"opaque"; a bare version (3) is read as "3"
// for clients that never quoted it. HttpError 400 for anything else.
struct EntityTags {
  bool any = false;
  struct Tag {
    bool weak = false;
    std::string opaque;
  };
  std::vector<Tag> tags;
};

std::optional<std::uint64_t> version_of(const std::string& opaque) {
  if (opaque.empty() || opaque.size() > 19) return std::nullopt;
  std::uint64_t out = 0;
  for (char c : opaque) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return out;
}
EntityTags entity_tags(const std::string& value, const char* header) {
  const HttpError bad{400, "bad_request",
                      std::string(header) + " must be * or a list of entity tags (\"3\")"};
  EntityTags out;
  std::string_view rest = value;
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  if (trim(rest) == "*") {
    out.any = true;
    return out;
  }
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.empty()) continue;  // "#" lists allow empty elements
    EntityTags::Tag tag;
    if (item.starts_with("W/")) {
      tag.weak = true;
      item.remove_prefix(2);
    }
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    } else if (tag.weak || !version_of(std::string(item))) {
      throw bad;  // unquoted: only a bare version, as older clients send it
    }
    for (unsigned char c : item)
      if (c == '"' || c < 0x21 || c == 0x7f) throw bad;
    tag.opaque = std::string(item);
    out.tags.push_back(std::move(tag));
  }
  if (out.tags.empty()) throw bad;
  return out;
}

}  // namespace

std::string etag_of(std::uint64_t version) { return "\"" + std::to_string(version) + "\""; }

std::optional<std::uint64_t> if_match(const HttpRequest& r) {
  const std::string& v = r.header("if-match");
  if (v.empty()) return std::nullopt;
  const EntityTags given = entity_tags(v, "If-Match");
  if (given.any) return std::nullopt;  // any current version
  // Strong comparison: a weak tag matches nothing, and no tag this server makes is other
  // than a version; a header none of whose tags can match asks for version 0, which no
  // record has (412).
  std::optional<std::uint64_t> version;
  for (const auto& tag : given.tags) {
    if (tag.weak) continue;
    const auto named = version_of(tag.opaque);
    if (!named) continue;
    if (version && *version != *named)
      throw HttpError{400, "bad_request", "If-Match: name one version (or *), not several"};
    version = named;
  }
  return version.value_or(0);
}

bool none_match(const HttpRequest& r, std::uint64_t version) {
  const std::string& v = r.header("if-none-match");
  if (v.empty()) return false;
  const EntityTags given = entity_tags(v, "If-None-Match");
  if (given.any) return true;
  // Weak comparison: W/"3" and "3" both name version 3.
  const std::string current = std::to_string(version);
  return std::any_of(given.tags.begin(), given.tags.end(),
                     [&](const EntityTags::Tag& tag) { return tag.opaque == current; });
}

HttpResponse not_modified(std::uint64_t version) {
  HttpResponse out;
  out.status = 304;
  out.headers.emplace_back("ETag", etag_of(version));
  return out;
}

Id body_id(const json& body, const std::string& name) {
  if (!body.contains(name) || !body[name].is_number_unsigned() ||
      body[name].get<std::uint64_t>() == 0)
    throw ValidationError(name + ": a record id (a positive integer) is required", name);
  return body[name].get<std::uint64_t>();
}

void only_keys(const json& body, std::initializer_list<const char*> allowed,
               const std::string& prefix) {
  for (const auto& [k, v] : body.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) throw ValidationError(prefix + k + ": no such field", prefix + k);
  }
}

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

}  // namespace banyan::rest
