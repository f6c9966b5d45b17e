// banyan dlq list | show | replay | purge | stats: the dead-letter queue.
#include <banyan/errors.hpp>
#include <banyan/messaging/dead_letter_store.hpp>

#include <iomanip>
#include <ostream>

#include <CLI/CLI.hpp>

#include "command_context.hpp"

namespace banyan::cli {

namespace {

using messaging::DeadLetter;
using messaging::DeadLetterFilter;

// The filter options of list, replay and purge, as given.
struct FilterArgs {
  std::string queue, type, error, older_than, newer_than;
  bool replayed = false;
  CLI::App* command = nullptr;

  void add_to(CLI::App* sub) {
    command = sub;
    sub->add_option("--queue", queue, "Only this queue's dead letters");
    sub->add_option("--type", type, "Only events of this type")->type_name("EVENT_TYPE");
    sub->add_option("--error", error, "Only those whose last error contains TEXT")
        ->type_name("TEXT");
    sub->add_option("--older-than", older_than, "Only those dead for longer (90s, 15m, 2h, 7d)")
        ->check(host::duration_check());
    sub->add_option("--newer-than", newer_than, "Only those dead for less")
        ->check(host::duration_check());
    sub->add_flag("--replayed", replayed, "Include dead letters already replayed");
  }
  // The filter, and whether any option narrowed it.
  std::pair<DeadLetterFilter, bool> filter() const {
    DeadLetterFilter f;
    auto given = [&](const char* name) { return command->count(name) > 0; };
    if (given("--queue")) f.queue = queue;
    if (given("--type")) f.event_type = type;
    if (given("--error")) f.error_contains = error;
    if (given("--older-than")) f.older_than = host::parse_duration(older_than);
    if (given("--newer-than")) f.newer_than = host::parse_duration(newer_than);
    f.include_replayed = replayed;
    return {f, f.queue || f.event_type || f.error_contains || f.older_than || f.newer_than};
  }
};

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
      << "event:          " << d.event.type << " " << d.event.id << " (sequence "
      << d.event.sequence << ")\n"
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

messaging::DeadLetterStore dead_letters(CommandContext& ctx) { return ctx.admin().dead_letters(); }

// replay or purge: one id, or a filter, or --all (an empty filter matches everything, so
// "everything" must be said).
void add_replay_or_purge(CLI::App* dlq, CommandContext& ctx, bool replay) {
  auto* sub =
      dlq->add_subcommand(replay ? "replay" : "purge",
                          replay ? "Send dead letters back to their queues (ID, a filter or --all)"
                                 : "Delete dead letters (ID, a filter or --all)");
  struct Args {
    std::uint64_t id = 0;
    bool all = false;
    FilterArgs filter;
  };
  auto args = std::make_shared<Args>();
  CLI::Option* id = sub->add_option("id", args->id, "One dead letter")
                        ->type_name("ID")
                        ->check(host::number_check());
  sub->add_flag("--all", args->all, "Every dead letter the filter matches, or every one");
  args->filter.add_to(sub);
  ctx.on(sub, [&ctx, args, id, replay] {
    const auto [filter, filtered] = args->filter.filter();
    const bool one = id->count() > 0;
    if (one == (filtered || args->all))
      throw UsageError(std::string("dlq ") + (replay ? "replay" : "purge") +
                       " takes one id, or a filter, or --all");
    auto store = dead_letters(ctx);
    if (one && replay) {
      store.replay(args->id);
      ctx.out << "replayed " << args->id << "\n";
    } else if (one) {
      if (!store.purge(args->id))
        throw NotFound("no dead letter " + std::to_string(args->id), "id");
      ctx.out << "purged " << args->id << "\n";
    } else if (!replay) {
      ctx.out << "purged " << store.purge(filter) << " entries\n";
    } else {
      const auto report = store.replay(filter);
      ctx.out << "replayed " << report.replayed << " entries\n";
      for (const auto& r : report.refused)
        ctx.out << "not replayed " << r.id << ": " << r.reason << "\n";
      return report.refused.empty() ? 0 : 1;  // a script must notice what was left behind
    }
    return 0;
  });
}

}  // namespace

void add_dlq_commands(CLI::App& app, CommandContext& ctx) {
  auto* dlq = app.add_subcommand("dlq", "The dead-letter queue")->require_subcommand(1);

  auto* list = dlq->add_subcommand("list", "List dead letters, newest first");
  struct ListArgs {
    std::size_t limit = 100;
    std::uint64_t before = 0;
    FilterArgs filter;
  };
  auto list_args = std::make_shared<ListArgs>();
  list->add_option("--limit", list_args->limit, "At most N (100)")
      ->type_name("N")
      ->check(host::number_check());
  CLI::Option* before =
      list->add_option("--before", list_args->before, "Only ids below ID (the next page)")
          ->type_name("ID")
          ->check(host::number_check());
  list_args->filter.add_to(list);
  ctx.on(list, [&ctx, list_args, before] {
    const auto filter = list_args->filter.filter().first;
    std::optional<std::uint64_t> below;
    if (before->count() > 0) below = list_args->before;
    const auto entries = dead_letters(ctx).list(filter, list_args->limit, below);
    ctx.out << std::left << std::setw(8) << "ID" << std::setw(20) << "QUEUE" << std::setw(24)
            << "TYPE" << std::setw(9) << "ATTEMPTS" << std::setw(11) << "CLASS" << std::setw(22)
            << "DEAD AT"
            << "LAST ERROR\n";
    for (const auto& d : entries) print_row(d, ctx.out);
    ctx.out << entries.size() << " entries\n";
    return 0;
  });

  auto* show = dlq->add_subcommand("show", "Print one dead letter whole");
  auto show_id = std::make_shared<std::uint64_t>(0);
  show->add_option("id", *show_id, "The dead letter")
      ->type_name("ID")
      ->check(host::number_check())
      ->required();
  ctx.on(show, [&ctx, show_id] {
    print_entry(dead_letters(ctx).get(*show_id), ctx.out);
    return 0;
  });

  add_replay_or_purge(dlq, ctx, true);
  add_replay_or_purge(dlq, ctx, false);

  ctx.on(
      dlq->add_subcommand("stats", "Each queue's dead letters and the oldest one's age"), [&ctx] {
        ctx.out << std::left << std::setw(24) << "QUEUE" << std::setw(10) << "DEPTH"
                << "OLDEST AGE (s)\n";
        for (const auto& s : dead_letters(ctx).stats())
          ctx.out << std::setw(24) << s.queue << std::setw(10) << s.depth
                  << std::chrono::duration_cast<std::chrono::seconds>(s.oldest_age).count() << "\n";
        return 0;
      });
}

}  // namespace banyan::cli
