#include "security/issuer_keys.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "banyan/errors.hpp"
#include "net/http_client.hpp"

namespace banyan::security::detail {
namespace {

using nlohmann::json;

JwtPolicy policy_of(const OidcOptions& o) {
  JwtPolicy p;
  p.issuer = o.issuer;
  p.audience = o.audience;
  p.clock_skew = o.clock_skew;
  return p;
}

// A JSON document from `url`: 200 and an object, or Unavailable.
json fetch_json(const std::string& url, std::chrono::milliseconds timeout) {
  const auto r = net::detail::http_request("GET", url, "", {{"Accept", "application/json"}},
                                           std::chrono::steady_clock::now() + timeout, 1u << 20);
  if (r.status != 200) throw Unavailable("GET " + url + " answered " + std::to_string(r.status));
  json doc = json::parse(r.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw Unavailable("GET " + url + " did not answer a JSON object");
  return doc;
}

std::string string_member(const json& doc, const char* name) {
  const auto it = doc.find(name);
  const auto* s = it == doc.end() ? nullptr : it->get_ptr<const std::string*>();
  return s == nullptr ? std::string() : *s;
}

}  // namespace

IssuerKeys::IssuerKeys(OidcOptions options)
    : options_(std::move(options)), policy_(policy_of(options_)) {
  if (options_.issuer.empty()) throw ValidationError("oidc issuer: required", "issuer");
  // Keys fetched over plain HTTP could be swapped by anyone on the path: an issuer is
  // https://, or http:// on loopback when the operator says so.
  const bool https = options_.issuer.rfind("https://", 0) == 0;
  const bool loopback_http =
      options_.issuer.rfind("http://", 0) == 0 && net::detail::is_loopback_url(options_.issuer);
  if (!https && !(loopback_http && options_.allow_http_loopback))
    throw ValidationError(
        "oidc issuer: '" + options_.issuer + "' is not an https:// URL" +
            (loopback_http ? " (plain http:// on loopback needs allow_http_loopback)" : ""),
        "issuer");
  if (options_.audience.empty()) throw ValidationError("oidc audience: required", "audience");
}

std::shared_ptr<const JwtVerifier> IssuerKeys::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return verifier_;
}

KeyStats IssuerKeys::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

// The discovery document (OpenID Connect Discovery 1.0, section 4) must name the issuer
// we trust, exactly, and the JWKS it points to must parse.
std::string IssuerKeys::fetch_jwks() const {
  if (!options_.jwks_file.empty()) {
    std::ifstream in(options_.jwks_file);
    if (!in) throw Unavailable("cannot read the JWKS file " + options_.jwks_file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string base = options_.issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const json discovery =
      fetch_json(base + "/.well-known/openid-configuration", options_.fetch_timeout);
  if (string_member(discovery, "issuer") != options_.issuer)
    throw Unavailable("the discovery document of " + options_.issuer + " names another issuer");
  const std::string jwks_uri = string_member(discovery, "jwks_uri");
  if (jwks_uri.empty())
    throw Unavailable("the discovery document of " + options_.issuer + " has no jwks_uri");
  // Keys from another origin would let whoever controls that origin mint tokens.
  std::string origin;
  try {
    origin = net::detail::origin_of(jwks_uri);
  } catch (const ValidationError&) {
  }
  if (origin != net::detail::origin_of(options_.issuer))
    throw Unavailable("the jwks_uri " + jwks_uri + " of " + options_.issuer +
                      " is not on the issuer's origin");
  return fetch_json(jwks_uri, options_.fetch_timeout).dump();
}

bool IssuerKeys::fetch_locked() {
  attempted_at_ = Clock::now();
  attempted_ = true;
  std::shared_ptr<const JwtVerifier> fresh;
  try {
    fresh = std::make_shared<const JwtVerifier>(policy_, JsonWebKeySet::parse(fetch_jwks()));
  } catch (const Error& e) {  // Unavailable, or ValidationError for a malformed key set
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.refresh_failures;
    last_failure_ = e.what();
    return false;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  verifier_ = std::move(fresh);
  fetched_at_ = attempted_at_;
  ++stats_.refreshes;
  return true;
}

std::shared_ptr<const JwtVerifier> IssuerKeys::current() {
  std::shared_ptr<const JwtVerifier> held;
  bool stale = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    held = verifier_;
    stale = held != nullptr && Clock::now() - fetched_at_ >= options_.key_max_age;
  }
  if (held != nullptr && !stale) return held;
  if (held == nullptr) {
    // No keys yet (the issuer was down at start): every request tries, one at a time and
    // at most once per refresh interval, and is told the keys are unavailable meanwhile.
    std::lock_guard<std::mutex> lock(fetch_mutex_);
    if (auto got = snapshot()) return got;
    if (!attempted_ || Clock::now() - attempted_at_ >= options_.key_refresh_interval)
      fetch_locked();
    if (auto got = snapshot()) return got;
    std::lock_guard<std::mutex> guard(mutex_);
    throw Unavailable("the signing keys of " + options_.issuer + " cannot be had (" +
                      last_failure_ + ")");
  }
  // Stale: one request fetches again; the others go on with the keys held.
  std::unique_lock<std::mutex> lock(fetch_mutex_, std::try_to_lock);
  if (lock.owns_lock() &&
      (!attempted_ || Clock::now() - attempted_at_ >= options_.key_refresh_interval))
    fetch_locked();
  return snapshot();
}

std::shared_ptr<const JwtVerifier> IssuerKeys::refresh(
    const std::shared_ptr<const JwtVerifier>& seen) {
  std::lock_guard<std::mutex> lock(fetch_mutex_);
  if (auto now_held = snapshot(); now_held != seen) return now_held;  // another thread refreshed
  if (attempted_ && Clock::now() - attempted_at_ < options_.key_refresh_interval) return nullptr;
  return fetch_locked() ? snapshot() : nullptr;
}

}  // namespace banyan::security::detail
