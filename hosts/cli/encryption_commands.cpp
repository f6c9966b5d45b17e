#include "encryption_command.hpp"

#include "args.hpp"

namespace banyan::cli {

const char* const kEncryptionUsage =
    "  banyan encryption keygen [--id ID]   print a new key line (append it to the key file\n"
    "                                       named by BANYAN_ENCRYPTION_KEY_FILE: the last key seals)\n"
    "  banyan encryption status             the key that seals new values\n"
    "  banyan encryption rewrap [--batch N] reseal stored values with that key\n"
    "  (an audit key, BANYAN_AUDIT_KEY_FILE, is one such line in a file of its own)\n"
    "  banyan bus keygen                    print a new bus key file (ZeroMQ CURVE pairs for\n"
    "                                       tcp:// endpoints: BANYAN_BUS_KEY_FILE)\n";

bool is_keygen(const std::vector<std::string>& args) {
  return args.size() >= 2 && (args[0] == "encryption" || args[0] == "bus") && args[1] == "keygen";
}

int run_keygen(const std::vector<std::string>& args, std::ostream& out) {
  if (args[0] == "bus") {
    if (args.size() > 2) throw UsageError("bus keygen takes no arguments");
    out << messaging::CurveKeys::generate();
    return 0;
  }
  const Args a(std::vector<std::string>(args.begin() + 2, args.end()), {"--id"});
  a.only_switches({});
  if (!a.positionals().empty()) throw UsageError("encryption keygen takes only --id");
  out << store::EncryptionKeys::generate_line(a.option("--id").value_or("k1")) << "\n";
  return 0;
}

int run_encryption(store::Database& db, const std::vector<std::string>& args, std::ostream& out) {
  if (args.empty()) throw UsageError("encryption needs keygen, status or rewrap");
  const Args a(std::vector<std::string>(args.begin() + 1, args.end()), {"--batch"});
  a.only_switches({});
  if (!a.positionals().empty()) throw UsageError("unexpected argument '" + a.positionals()[0] + "'");
  if (args[0] == "status") {
    const std::string id = db.encryption_key_id();
    out << (id.empty() ? "off: sensitive values are stored as given (no keys configured)"
                       : "on: new sensitive values are sealed with key '" + id + "'")
        << "\n";
    return 0;
  }
  if (args[0] == "rewrap") {
    std::size_t batch = 200;
    if (const auto b = a.option("--batch")) {
      try {
        batch = std::stoul(*b);
      } catch (const std::exception&) {
        throw UsageError("--batch needs a number");
      }
    }
    out << "resealed " << db.rewrap_encrypted(batch) << " record(s) with key '" << db.encryption_key_id()
        << "'\n";
    return 0;
  }
  throw UsageError("unknown encryption command '" + args[0] + "'");
}

}  // namespace banyan::cli
