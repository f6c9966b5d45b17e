#include <zmq.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "banyan/errors.hpp"
#include "banyan/messaging/message_bus.hpp"

namespace banyan::messaging {
namespace {

[[noreturn]] void bad_keys(const std::string& why) {
  throw ValidationError("bus_keys: " + why, "bus_keys");
}

std::string_view trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool is_z85_key(const std::string& key) {
  std::array<std::uint8_t, 32> raw{};
  return key.size() == 40 && zmq_z85_decode(raw.data(), key.c_str()) != nullptr;
}

// The public key of a Z85 secret key.
std::string public_of(const std::string& secret) {
  std::array<char, 41> out{};
  if (zmq_curve_public(out.data(), secret.c_str()) != 0)
    bad_keys("a secret key is not a CURVE key");
  return out.data();
}

}  // namespace

CurveKeys CurveKeys::parse(std::string_view text) {
  CurveKeys k;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = trimmed(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.find_first_of(" \t");
    const std::string where = "line " + std::to_string(line_no);
    if (space == std::string_view::npos) bad_keys(where + " is not \"NAME KEY\"");
    const std::string_view name = line.substr(0, space);
    const std::string key(trimmed(line.substr(space)));
    if (!is_z85_key(key))
      bad_keys(where + " (" + std::string(name) + "): a key is 40 characters of Z85");
    if (name == "server-public")
      k.server_public = key;
    else if (name == "server-secret")
      k.server_secret = key;
    else if (name == "client-public")
      k.client_public = key;
    else if (name == "client-secret")
      k.client_secret = key;
    else if (name == "allow")
      k.allowed_clients.push_back(key);
    else
      bad_keys(where + ": '" + std::string(name.substr(0, 40)) +
               "' is not server-public, server-secret, "
               "client-public, client-secret or allow");
  }
  if (k.server_public.empty())
    bad_keys("server-public is missing (every process checks the relay with it)");
  if (k.client_public.empty() != k.client_secret.empty())
    bad_keys("client-public and client-secret go together");
  if (!k.server_secret.empty() && public_of(k.server_secret) != k.server_public)
    bad_keys("server-public is not the public key of server-secret");
  if (!k.client_secret.empty() && public_of(k.client_secret) != k.client_public)
    bad_keys("client-public is not the public key of client-secret");
  return k;
}

CurveKeys CurveKeys::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Unavailable("cannot read the bus key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

std::optional<CurveKeys> CurveKeys::from_environment() {
  if (const char* path = std::getenv("BANYAN_BUS_KEY_FILE"); path && *path) return load_file(path);
  return std::nullopt;
}

std::string CurveKeys::generate() {
  auto pair = [](const char* who) {
    std::array<char, 41> pub{}, sec{};
    if (zmq_curve_keypair(pub.data(), sec.data()) != 0)
      throw InternalError("ZeroMQ cannot make CURVE keys");
    return std::string(who) + "-public " + pub.data() + "\n" + who + "-secret " + sec.data() + "\n";
  };
  return "# Banyan bus keys (ZeroMQ CURVE): give this file to every banyan-server and\n"
         "# banyan-worker of the deployment (BANYAN_BUS_KEY_FILE, or --bus-key-file); keep it "
         "secret.\n" +
         pair("server") + pair("client");
}

}  // namespace banyan::messaging
