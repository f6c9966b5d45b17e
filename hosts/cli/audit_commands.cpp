// banyan audit verify | checkpoint | list | history: the audit trail.
#include <banyan/model/time.hpp>

#include <CLI/CLI.hpp>

#include "command_context.hpp"

namespace banyan::cli {

namespace {

void print_entry(const store::AuditEntry& e, std::ostream& out) {
  out << e.id << ' ' << format_timestamp(e.at) << ' ' << e.action << ' ' << to_string(e.object.type)
      << ':' << e.object.id << " by "
      << (e.actor.empty() ? (e.actor_id ? "user " + std::to_string(*e.actor_id) : "-") : e.actor);
  if (!e.origin.empty()) out << " from " << e.origin;
  out << ' ' << (e.action == "denied" ? e.detail : e.changes) << '\n';
}

// "TYPE:ID", e.g. contact:42.
ObjectRef parse_object(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw UsageError("--object takes TYPE:ID, e.g. contact:42");
  return ObjectRef{parse_object_type(text.substr(0, colon)), parse_id(text.substr(colon + 1))};
}

void add_verify(CLI::App* audit, CommandContext& ctx) {
  auto* verify = audit->add_subcommand("verify",
                                       "Check the trail's chain, and against an anchor file's "
                                       "checkpoints (exit 1 when tampered with)");
  auto anchor = std::make_shared<std::string>();
  verify->add_option("--anchor", *anchor, "Checkpoints banyan-server --audit-anchor wrote")
      ->type_name("FILE");
  ctx.on(verify, [&ctx, anchor] {
    std::vector<store::AuditCheckpoint> anchors;
    if (!anchor->empty()) anchors = store::read_audit_anchor(*anchor);
    const auto admin = ctx.admin();
    const auto v =
        ctx.read([&](store::UnitOfWork& uow) { return admin.verify_audit_trail(uow, anchors); });
    if (!v.intact) {
      ctx.out << "the audit trail was TAMPERED WITH at entry " << v.first_bad << ": " << v.problem
              << "\n";
      return 1;
    }
    ctx.out << "the audit trail is intact: " << v.entries << " entries";
    if (!anchors.empty()) ctx.out << ", " << anchors.size() << " checkpoints agree";
    if (v.entries > 0) {
      // The newest hash vouches for everything before it: kept elsewhere, it shows a
      // rewrite of the whole chain too.
      store::AuditQuery last;
      last.after = v.entries - 1;
      last.limit = 1;
      const auto newest =
          ctx.read([&](store::UnitOfWork& uow) { return admin.audit_entries(uow, last); });
      if (!newest.empty())
        ctx.out << ", the last (" << newest.front().id << ") hashed " << newest.front().hash;
    }
    ctx.out << "\n";
    return 0;
  });
}

void add_list(CLI::App* audit, CommandContext& ctx) {
  auto* list = audit->add_subcommand("list", "Entries, oldest first");
  struct ListArgs {
    std::string object, from, to;
    std::uint64_t actor = 0, after = 0, limit = 0;
  };
  auto a = std::make_shared<ListArgs>();
  list->add_option("--object", a->object, "Only entries about this record")->type_name("TYPE:ID");
  auto* actor = list->add_option("--actor", a->actor, "Only this user's entries")
                    ->type_name("USER_ID")
                    ->check(host::number_check());
  list->add_option("--from", a->from, "Entries at or after (RFC 3339)")
      ->check(host::timestamp_check());
  list->add_option("--to", a->to, "Entries before (RFC 3339)")->check(host::timestamp_check());
  auto* after = list->add_option("--after", a->after, "Entries after this one (the next page)")
                    ->type_name("ENTRY")
                    ->check(host::number_check());
  auto* limit = list->add_option("--limit", a->limit, "At most N")
                    ->type_name("N")
                    ->check(host::number_check());
  ctx.on(list, [&ctx, a, actor, after, limit, list] {
    store::AuditQuery q;
    if (!a->object.empty()) q.object = parse_object(a->object);
    if (actor->count() > 0) q.actor_id = a->actor;
    if (list->count("--from") > 0) q.from = *parse_timestamp(a->from);
    if (list->count("--to") > 0) q.to = *parse_timestamp(a->to);
    if (after->count() > 0) q.after = a->after;
    if (limit->count() > 0) q.limit = a->limit;
    const auto admin = ctx.admin();
    ctx.read([&](store::UnitOfWork& uow) {
      for (const auto& e : admin.audit_entries(uow, q)) print_entry(e, ctx.out);
    });
    return 0;
  });
}

}  // namespace

void add_audit_commands(CLI::App& app, CommandContext& ctx) {
  auto* audit = app.add_subcommand("audit", "The audit trail")->require_subcommand(1);
  add_verify(audit, ctx);

  auto* checkpoint = audit->add_subcommand("checkpoint",
                                           "Append a signed checkpoint of the trail's head (needs "
                                           "the audit key, BANYAN_AUDIT_KEY_FILE)");
  auto anchor = std::make_shared<std::string>();
  checkpoint->add_option("--anchor", *anchor, "The file to append to")
      ->type_name("FILE")
      ->required();
  ctx.on(checkpoint, [&ctx, anchor] {
    const auto admin = ctx.admin();
    const auto c = ctx.read([&](store::UnitOfWork& uow) { return admin.audit_checkpoint(uow); });
    store::append_audit_anchor(*anchor, c);
    ctx.out << "checkpoint of entry " << c.sequence << " appended to " << *anchor << "\n";
    return 0;
  });

  add_list(audit, ctx);

  auto* history = audit->add_subcommand("history", "A record's field changes, oldest first");
  struct HistoryArgs {
    std::string type, field;
    std::uint64_t id = 0;
  };
  auto h = std::make_shared<HistoryArgs>();
  history->add_option("type", h->type, "The record type (contact, deal, ...)")
      ->type_name("TYPE")
      ->required();
  history->add_option("id", h->id, "The record")
      ->type_name("ID")
      ->check(host::number_check())
      ->required();
  history->add_option("--field", h->field, "Only this field's changes")->type_name("NAME");
  ctx.on(history, [&ctx, h] {
    const ObjectRef object{parse_object_type(h->type), h->id};
    auto& engine = ctx.engine();
    ctx.read([&](store::UnitOfWork& uow) {
      for (const auto& c : engine.history(uow, CommandContext::principal(), object, h->field))
        ctx.out << format_timestamp(c.at) << ' ' << c.field << ": " << c.before << " -> " << c.after
                << " (" << c.action << " by " << (c.actor.empty() ? "-" : c.actor) << ", entry "
                << c.entry << ")\n";
    });
    return 0;
  });
}

}  // namespace banyan::cli
