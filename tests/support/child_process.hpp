// Real processes for end-to-end and fault tests: spawn, watch the output, signal, reap.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace banyan::test {

class ChildProcess {
 public:
  // Starts argv[0] with its stdout and stderr going to a fresh file (see output()).
  explicit ChildProcess(std::vector<std::string> argv);
  // SIGKILLs the process if it still runs, and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int sig);
  pid_t pid() const noexcept { return pid_; }
  // Waits for the exit; returns the exit status, or 128 + signal number.
  int wait(std::chrono::milliseconds limit = std::chrono::seconds(60));
  bool running();
  // Everything the process printed so far.
  std::string output() const;
  // Waits until the output contains `text`. The limit is generous: a node process starting
  // on a loaded 2-core machine once took longer than 30 s.
  bool wait_for_output(const std::string& text,
                       std::chrono::milliseconds limit = std::chrono::seconds(90));

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

struct CommandResult {
  int status = -1;
  std::string output;
};
// Runs a command to completion.
CommandResult run_command(const std::vector<std::string>& argv);

}  // namespace banyan::test
