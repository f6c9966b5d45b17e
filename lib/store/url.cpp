#include "store/url.hpp"

#include <charconv>
#include <string>

#include "banyan/errors.hpp"

namespace banyan::store::detail {
namespace {

[[noreturn]] void bad_url(const std::string& why) {
  throw ValidationError("invalid database URL: " + why, "url");
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= s.size()) bad_url("truncated percent escape");
    auto [ptr, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    if (ec != std::errc() || ptr != s.data() + i + 3) bad_url("bad percent escape");
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// A timeout parameter: whole seconds from 1 to 3600.
unsigned seconds(std::string_view key, const std::string& value) {
  unsigned out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size() || value.empty() || out < 1 ||
      out > 3600)
    bad_url(std::string(key) + " must be whole seconds from 1 to 3600");
  return out;
}

}  // namespace

island::ConnectionSpec parse_database_url(std::string_view url) {
  island::ConnectionSpec spec;
  if (url == "sqlite::memory:") {
    spec.backend = island::Backend::kSqlite;
    spec.sqlite_path = ":memory:";
    spec.describe = "sqlite::memory:";
    return spec;
  }
  constexpr std::string_view kSqlite = "sqlite://";
  constexpr std::string_view kMysql = "mysql://";
  if (url.starts_with(kSqlite)) {
    std::string_view path = url.substr(kSqlite.size());
    if (path.empty()) bad_url("sqlite:// needs a file path, e.g. sqlite:///var/lib/crm.db");
    if (path.find('\0') != std::string_view::npos) bad_url("NUL byte in path");
    spec.backend = island::Backend::kSqlite;
    spec.sqlite_path = percent_decode(path);
    spec.describe = "sqlite://" + std::string(path);
    return spec;
  }
  if (!url.starts_with(kMysql)) bad_url("expected sqlite://... or mysql://...");

  std::string_view rest = url.substr(kMysql.size());
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  spec.backend = island::Backend::kMysql;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      spec.user = percent_decode(userinfo.substr(0, colon));
      spec.password = percent_decode(userinfo.substr(colon + 1));
    } else {
      spec.user = percent_decode(userinfo);
    }
  }
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size())
    bad_url("mysql URL needs a database name: mysql://user:pass@host:port/dbname");
  std::string_view hostport = rest.substr(0, slash);
  spec.database = percent_decode(rest.substr(slash + 1));
  if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = hostport.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535)
      bad_url("port must be a number from 1 to 65535");
    spec.port = value;
    hostport = hostport.substr(0, colon);
  }
  spec.host = std::string(hostport);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    if (key == "socket") {
      spec.socket = value;
    } else if (key == "connect_timeout") {
      spec.connect_timeout = seconds(key, value);
    } else if (key == "read_timeout") {
      spec.read_timeout = seconds(key, value);
    } else if (key == "write_timeout") {
      spec.write_timeout = seconds(key, value);
    } else {
      bad_url("unknown parameter '" + std::string(key) +
              "' (known: socket, connect_timeout, read_timeout, write_timeout)");
    }
  }
  spec.describe = "mysql://" + (spec.user.empty() ? "" : spec.user + "@") + spec.host +
                  (spec.port ? ":" + std::to_string(spec.port) : "") + "/" + spec.database;
  return spec;
}

}  // namespace banyan::store::detail
