#include "audit_command.hpp"

#include "args.hpp"
#include "banyan/model/time.hpp"

namespace banyan::cli {

const char* const kAuditUsage =
    "  banyan audit verify [--anchor FILE]   (exit 1 when the trail was tampered with; FILE holds\n"
    "                    the checkpoints banyan-server --audit-anchor wrote)\n"
    "  banyan audit checkpoint --anchor FILE   append a signed checkpoint of the trail's head\n"
    "                    (both need the audit key: BANYAN_AUDIT_KEY_FILE)\n"
    "  banyan audit list [--object TYPE:ID] [--actor USER_ID] [--from TIME] [--to TIME]\n"
    "                    [--after ENTRY] [--limit N]   (RFC 3339 times, oldest first)\n"
    "  banyan audit history TYPE ID [--field NAME]\n";

namespace {

Timestamp time_option(const Args& a, const char* name) {
  const auto t = parse_timestamp(*a.option(name));
  if (!t) throw UsageError(std::string(name) + " takes an RFC 3339 time, e.g. 2026-11-29T12:00:00Z");
  return *t;
}

void print_entry(const store::AuditEntry& e, std::ostream& out) {
  out << e.id << ' ' << format_timestamp(e.at) << ' ' << e.action << ' ' << to_string(e.object.type) << ':'
      << e.object.id << " by " << (e.actor.empty() ? (e.actor_id ? "user " + std::to_string(*e.actor_id) : "-") : e.actor);
  if (!e.origin.empty()) out << " from " << e.origin;
  out << ' ' << (e.action == "denied" ? e.detail : e.changes) << '\n';
}

}  // namespace

int run_audit(store::Database& db, const std::vector<std::string>& args, std::ostream& out) {
  const Args a(args, {"--object", "--actor", "--from", "--to", "--after", "--limit", "--field", "--anchor"});
  a.only_switches({});
  const auto& p = a.positionals();
  if (p.size() == 1 && p[0] == "checkpoint") {
    const auto anchor = a.option("--anchor");
    if (!anchor) throw UsageError("audit checkpoint needs --anchor FILE");
    const auto c = db.read([&](store::UnitOfWork& uow) { return db.audit().checkpoint(uow); });
    store::append_audit_anchor(*anchor, c);
    out << "checkpoint of entry " << c.sequence << " appended to " << *anchor << "\n";
    return 0;
  }
  if (p.size() == 1 && p[0] == "verify") {
    std::vector<store::AuditCheckpoint> anchors;
    if (const auto anchor = a.option("--anchor")) anchors = store::read_audit_anchor(*anchor);
    const auto v = db.read([&](store::UnitOfWork& uow) { return db.audit().verify(uow, anchors); });
    if (v.intact) {
      out << "the audit trail is intact: " << v.entries << " entries";
      if (!anchors.empty()) out << ", " << anchors.size() << " checkpoints agree";
      if (v.entries > 0) {
        // The newest hash vouches for everything before it: kept elsewhere, it shows a
        // rewrite of the whole chain too.
        store::AuditQuery last;
        last.after = v.entries - 1;
        last.limit = 1;
        const auto newest = db.read([&](store::UnitOfWork& uow) { return db.audit().query(uow, last); });
        if (!newest.empty()) out << ", the last (" << newest.front().id << ") hashed " << newest.front().hash;
      }
      out << "\n";
      return 0;
    }
    out << "the audit trail was TAMPERED WITH at entry " << v.first_bad << ": " << v.problem << "\n";
    return 1;
  }
  if (p.size() == 1 && p[0] == "list") {
    store::AuditQuery q;
    if (auto object = a.option("--object")) {
      const auto colon = object->find(':');
      if (colon == std::string::npos) throw UsageError("--object takes TYPE:ID, e.g. contact:42");
      q.object = ObjectRef{parse_object_type(object->substr(0, colon)), parse_id(object->substr(colon + 1))};
    }
    if (auto actor = a.option("--actor")) q.actor_id = parse_id(*actor);
    if (a.option("--from")) q.from = time_option(a, "--from");
    if (a.option("--to")) q.to = time_option(a, "--to");
    if (auto after = a.option("--after")) q.after = parse_id(*after);
    if (auto limit = a.option("--limit")) q.limit = parse_id(*limit);
    db.read([&](store::UnitOfWork& uow) {
      for (const auto& e : db.audit().query(uow, q)) print_entry(e, out);
    });
    return 0;
  }
  if (p.size() == 3 && p[0] == "history") {
    const ObjectRef object{parse_object_type(p[1]), parse_id(p[2])};
    db.read([&](store::UnitOfWork& uow) {
      for (const auto& c : db.audit().history(uow, object, a.option("--field").value_or("")))
        out << format_timestamp(c.at) << ' ' << c.field << ": " << c.before << " -> " << c.after << " (" << c.action
            << " by " << (c.actor.empty() ? "-" : c.actor) << ", entry " << c.entry << ")\n";
    });
    return 0;
  }
  throw UsageError("audit: verify, checkpoint, list or history");
}

}  // namespace banyan::cli
