// banyan-worker: the relay, the consumers and the sagas of one database, as a process.
// The composition root: parse the flags, wire the product's consumers, run.
#include <iostream>

#include "args.hpp"
#include "worker.hpp"

int main(int argc, char** argv) {
  try {
    const auto config =
        banyan::worker::parse_worker_args(std::vector<std::string>(argv + 1, argv + argc), nullptr);
    return banyan::worker::run_worker(config, {});
  } catch (const banyan::cli::UsageError& e) {
    std::cerr << "banyan-worker: " << e.what() << "\n" << banyan::worker::worker_usage();
    return 2;
  }
}
