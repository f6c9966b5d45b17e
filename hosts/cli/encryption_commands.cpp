// banyan encryption keygen | status | rewrap, and banyan bus keygen: keys for encryption
// at rest and for the bus, and resealing stored values. The keygens need no database.
#include <banyan/messaging/message_bus.hpp>

#include <CLI/CLI.hpp>

#include "command_context.hpp"

namespace banyan::cli {

void add_encryption_commands(CLI::App& app, CommandContext& ctx) {
  auto* encryption = app.add_subcommand("encryption", "Encryption at rest")->require_subcommand(1);
  auto* keygen = encryption->add_subcommand(
      "keygen",
      "Print a new key line: append it to the file BANYAN_ENCRYPTION_KEY_FILE names (the last key "
      "seals); an "
      "audit key, BANYAN_AUDIT_KEY_FILE, is one such line in a file of its own");
  auto id = std::make_shared<std::string>("k1");
  keygen->add_option("--id", *id, "The key's id (k1)");
  ctx.on(keygen, [&ctx, id] {
    ctx.out << store::EncryptionKeys::generate_line(*id) << "\n";
    return 0;
  });

  ctx.on(encryption->add_subcommand("status", "The key that seals new values"), [&ctx] {
    const std::string key = ctx.admin().encryption_key_id();
    ctx.out << (key.empty() ? "off: sensitive values are stored as given (no keys configured)"
                            : "on: new sensitive values are sealed with key '" + key + "'")
            << "\n";
    return 0;
  });

  auto* rewrap =
      encryption->add_subcommand("rewrap", "Reseal stored values with the key that seals");
  auto batch = std::make_shared<std::size_t>(200);
  rewrap->add_option("--batch", *batch, "Records per transaction (200)")
      ->type_name("N")
      ->check(host::number_check());
  ctx.on(rewrap, [&ctx, batch] {
    const auto resealed = ctx.admin().rewrap_encrypted(*batch);
    ctx.out << "resealed " << resealed << " record(s) with key '" << ctx.admin().encryption_key_id()
            << "'\n";
    return 0;
  });

  auto* bus = app.add_subcommand("bus", "The message bus's keys")->require_subcommand(1);
  ctx.on(bus->add_subcommand("keygen",
                             "Print a new bus key file: ZeroMQ CURVE pairs for tcp:// endpoints "
                             "(BANYAN_BUS_KEY_FILE)"),
         [&ctx] {
           ctx.out << messaging::CurveKeys::generate();
           return 0;
         });
}

}  // namespace banyan::cli
