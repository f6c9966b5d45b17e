// libFuzzer target: one request through banyan-server's request-to-handler path
// (Api::handle: routing, URL and query decoding, JSON limits, filters, the store) on a
// real SQLite file. The input reads as
//
//   METHOD\n
//   /target?query\n
//   header-name: value\n     (any number, names lower-cased as the HTTP layer does)
//   \n
//   body
//
// so the seed corpus (tests/fuzz/corpus) is a set of readable requests. A request without
// an authorization header gets an administrator's API key, so the fuzzer reaches every
// handler; one with its own fuzzes authentication. Any 5xx is a
// crash: bad input must get a 4xx problem, and every problem must be one (JSON with the
// status, a code and the request id).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "banyan/banyan.hpp"
#include "banyan/rest/api.hpp"

namespace {

using banyan::rest::HttpRequest;
using banyan::rest::HttpResponse;

struct Harness {
  std::string path = "/tmp/banyan-fuzz-" + std::to_string(::getpid()) + ".db";
  std::unique_ptr<banyan::store::Database> db;
  std::unique_ptr<banyan::rest::Api> api;
  std::string admin_key;

  Harness() {
    std::remove(path.c_str());
    db = banyan::store::Database::open("sqlite://" + path);
    banyan::Engine engine(*db);
    const auto system = banyan::security::Principal::system();
    admin_key = db->transact([&](banyan::store::UnitOfWork& uow) {
      banyan::User admin;
      admin.email = "fuzz@example.com";
      admin.name = "Fuzz";
      const auto id = engine.users(system).create(uow, admin).id;
      engine.admin(system).assign_role(uow, id, "admin");
      return engine.admin(system).issue_api_key(uow, id, "fuzz").secret;
    });
    banyan::rest::ApiOptions config;
    config.access_log = false;
    // Every input comes from one address at full speed: with limits on, the fuzzer would
    // spend its time on 429s (the limiter has its own tests).
    config.rate = {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
    api = std::make_unique<banyan::rest::Api>(*db, config, banyan::LogSink{});
  }
  ~Harness() {
    api.reset();
    db.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
};

std::string_view next_line(std::string_view& in) {
  const auto end = in.find('\n');
  const std::string_view line = in.substr(0, end);
  in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
  return line;
}

[[noreturn]] void fail(const HttpRequest& r, const HttpResponse& out, const char* why) {
  std::fprintf(stderr, "%s: %s %s -> %d %s\n", why, r.method.c_str(), r.target.c_str(), out.status,
               out.body.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  HttpRequest r;
  r.method = next_line(in);
  r.target = next_line(in);
  r.remote = "127.0.0.1";
  if (r.target.empty() || r.target[0] != '/')
    return -1;  // the HTTP layer only passes origin-form targets
  while (!in.empty()) {
    const std::string_view line = next_line(in);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  r.body = std::string(in);
  if (r.header("authorization").empty())
    r.headers.emplace_back("authorization", "Bearer " + harness.admin_key);

  const HttpResponse out = harness.api->handle(r);
  if (out.status >= 500) fail(r, out, "a server error for a request");
  if (out.status >= 400) {
    if (out.content_type != "application/problem+json")
      fail(r, out, "an error that is not a problem");
    const auto problem = nlohmann::json::parse(out.body, nullptr, false);
    if (!problem.is_object() || problem.value("status", 0) != out.status ||
        !problem.contains("code") || !problem.contains("request_id"))
      fail(r, out, "a malformed problem");
  }
  return 0;
}
