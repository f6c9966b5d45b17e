// banyan-worker: the relay, the consumers and the sagas of one database, as a process.
// The composition root: parse the flags, wire the product's consumers, run.
#include <CLI/CLI.hpp>

#include "command_line.hpp"
#include "worker.hpp"

int main(int argc, char** argv) {
  using namespace banyan;
  CLI::App app;
  const worker::WorkerCommandLine line(app);
  return host::run_program(app, argc, argv, [&] {
    return worker::run_worker(line.config(host::process_environment()), {});
  });
}
