#include "dlq_command.hpp"

#include <banyan/errors.hpp>
#include <banyan/messaging/dead_letter_store.hpp>
#include <banyan/saga/saga.hpp>

#include <ctime>
#include <iomanip>
#include <ostream>

#include "args.hpp"

namespace banyan::cli {

const char* const kDlqUsage =
    "  banyan dlq list   [FILTER] [--limit N] [--before ID]\n"
    "  banyan dlq show   ID\n"
    "  banyan dlq replay ID | FILTER | --all\n"
    "  banyan dlq purge  ID | FILTER | --all\n"
    "  banyan dlq stats\n"
    "    FILTER: --queue Q --type EVENT_TYPE --error TEXT --older-than DUR --newer-than DUR\n"
    "            --replayed (include replayed history); DUR like 90s, 15m, 2h, 7d\n";

namespace {

using messaging::DeadLetter;
using messaging::DeadLetterFilter;

const std::set<std::string> kValued = {"--queue", "--type", "--error", "--older-than",
                                       "--newer-than", "--limit", "--before"};

// The filter the options give, and whether any was given.
std::pair<DeadLetterFilter, bool> filter_of(const Args& a) {
  DeadLetterFilter f;
  f.queue = a.option("--queue");
  f.event_type = a.option("--type");
  f.error_contains = a.option("--error");
  if (auto d = a.option("--older-than")) f.older_than = parse_duration(*d);
  if (auto d = a.option("--newer-than")) f.newer_than = parse_duration(*d);
  f.include_replayed = a.flag("--replayed");
  const bool any = f.queue || f.event_type || f.error_contains || f.older_than || f.newer_than;
  return {f, any};
}

std::string when(Timestamp t) {
  const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string one_line(const std::string& text, std::size_t max) {
  std::string s;
  for (char c : text) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return s.size() > max ? s.substr(0, max - 3) + "..." : s;
}

void print_row(const DeadLetter& d, std::ostream& out) {
  out << std::left << std::setw(8) << d.id << std::setw(20) << d.queue << std::setw(24)
      << d.event.type << std::setw(9) << d.attempts << std::setw(11) << to_string(d.error_class)
      << std::setw(22) << when(d.dead_at) << (d.replayed_at ? "replayed  " : "")
      << one_line(d.last_error, 60) << "\n";
}

void print_entry(const DeadLetter& d, std::ostream& out) {
  out << "id:             " << d.id << "\n"
      << "queue:          " << d.queue << "\n"
      << "event:          " << d.event.type << " " << d.event.id << " (sequence " << d.event.sequence << ")\n"
      << "aggregate:      " << to_string(d.event.aggregate_type) << " " << d.event.aggregate_id
      << " version " << d.event.aggregate_version << "\n"
      << "occurred at:    " << when(d.event.occurred_at) << "\n"
      << "attempts:       " << d.attempts << "\n"
      << "first failure:  " << when(d.first_failed_at) << "\n"
      << "last failure:   " << when(d.last_failed_at) << "\n"
      << "error class:    " << to_string(d.error_class) << "\n"
      << "last error:     " << d.last_error << "\n"
      << "consumer:       " << d.consumer << "\n"
      << "dead-lettered:  " << when(d.dead_at) << "\n"
      << "replayed:       " << (d.replayed_at ? when(*d.replayed_at) : std::string("no")) << " ("
      << d.replays << " times)\n"
      << "payload:        " << d.event.payload << "\n";
}

}  // namespace

int run_dlq(store::Database& db, const std::vector<std::string>& argv, std::ostream& out) {
  if (argv.empty()) throw UsageError("dlq needs a verb");
  const std::string verb = argv[0];
  const Args a(std::vector<std::string>(argv.begin() + 1, argv.end()), kValued);
  messaging::DeadLetterStore dlq(db, saga::replay_guard());
  const auto& pos = a.positionals();
  auto [filter, filtered] = filter_of(a);
  if (verb == "list") {
    if (!pos.empty()) throw UsageError("dlq list takes no id");
    const std::size_t limit = a.option("--limit") ? parse_id(*a.option("--limit")) : 100;
    std::optional<std::uint64_t> before;
    if (auto b = a.option("--before")) before = parse_id(*b);
    const auto entries = dlq.list(filter, limit, before);
    out << std::left << std::setw(8) << "ID" << std::setw(20) << "QUEUE" << std::setw(24) << "TYPE"
        << std::setw(9) << "ATTEMPTS" << std::setw(11) << "CLASS" << std::setw(22) << "DEAD AT"
        << "LAST ERROR\n";
    for (const auto& d : entries) print_row(d, out);
    out << entries.size() << " entries\n";
  } else if (verb == "show") {
    if (pos.size() != 1) throw UsageError("dlq show takes one id");
    print_entry(dlq.get(parse_id(pos[0])), out);
  } else if (verb == "replay" || verb == "purge") {
    const bool replay = verb == "replay";
    if (pos.size() == 1 && !filtered && !a.flag("--all")) {
      const auto id = parse_id(pos[0]);
      if (replay) {
        dlq.replay(id);
        out << "replayed " << id << "\n";
      } else if (dlq.purge(id)) {
        out << "purged " << id << "\n";
      } else {
        throw NotFound("no dead letter " + std::to_string(id), "id");
      }
    } else if (pos.empty() && (filtered || a.flag("--all"))) {
      // An empty filter matches everything, so "everything" must be said with --all.
      if (!replay) {
        out << "purged " << dlq.purge(filter) << " entries\n";
        return 0;
      }
      const auto report = dlq.replay(filter);
      out << "replayed " << report.replayed << " entries\n";
      for (const auto& r : report.refused) out << "not replayed " << r.id << ": " << r.reason << "\n";
      // A script must notice what was left behind.
      return report.refused.empty() ? 0 : 1;
    } else {
      throw UsageError("dlq " + verb + " takes one id, or a filter, or --all");
    }
  } else if (verb == "stats") {
    out << std::left << std::setw(24) << "QUEUE" << std::setw(10) << "DEPTH" << "OLDEST AGE (s)\n";
    for (const auto& s : dlq.stats())
      out << std::setw(24) << s.queue << std::setw(10) << s.depth
          << std::chrono::duration_cast<std::chrono::seconds>(s.oldest_age).count() << "\n";
  } else {
    throw UsageError("unknown dlq verb '" + verb + "'");
  }
  return 0;
}

}  // namespace banyan::cli
