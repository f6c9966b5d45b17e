// banyan init | demo | summary | pool-stats: the schema, the demo data and the pool.
#include <CLI/CLI.hpp>

#include "command_context.hpp"
#include "demo_data.hpp"

namespace banyan::cli {

void add_store_commands(CLI::App& app, CommandContext& ctx) {
  ctx.on(app.add_subcommand("init", "Create or migrate the schema"), [&ctx] {
    ctx.out << "schema version " << ctx.db().schema_version() << " at " << ctx.db().location()
            << "\n";
    return 0;
  });
  ctx.on(app.add_subcommand("demo", "Load the demo data set and print what it holds"), [&ctx] {
    const auto& who = CommandContext::principal();
    demo::load(ctx.engine(), who);
    ctx.out << "Demo data loaded into " << ctx.db().location() << "\n\n";
    demo::print_pipeline_summary(ctx.engine(), who, ctx.out);
    ctx.out << '\n';
    demo::print_custom_field_report(ctx.engine(), who, ctx.out);
    demo::print_converted_leads(ctx.engine(), who, ctx.out);
    return 0;
  });
  ctx.on(app.add_subcommand("summary", "Print each pipeline's stages with counts and amounts"),
         [&ctx] {
           demo::print_pipeline_summary(ctx.engine(), CommandContext::principal(), ctx.out);
           return 0;
         });
  ctx.on(app.add_subcommand("pool-stats", "Print the connection pool's counters"), [&ctx] {
    const auto m = ctx.db().pool_metrics();
    ctx.out << "created " << m.created << ", destroyed " << m.destroyed << ", in use " << m.in_use
            << ", idle " << m.idle << ", waiters " << m.waiters << ", timeouts " << m.timeouts
            << "\n";
    return 0;
  });
}

}  // namespace banyan::cli
