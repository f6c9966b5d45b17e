// What every host's command line shares: CLI11 parsing with --help and --version, one exit
// convention (0 done, 1 the library refused, 2 the command line was wrong), settings that
// are a flag and a BANYAN_* variable at once, and the checks for durations and ids.
// CLI11 stays out of this header: hosts include <CLI/CLI.hpp> where they describe options.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "banyan/log.hpp"

namespace CLI {
class App;
class Validator;
}  // namespace CLI

namespace banyan::host {

// Thrown for a malformed command line or setting; the host prints it and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads one environment variable; a test passes its own.
using Getenv = std::function<std::optional<std::string>(const char*)>;
Getenv process_environment();

// "90s", "15m", "2h", "7d" (a whole number and a unit). Throws UsageError.
std::chrono::microseconds parse_duration(const std::string& text);
std::uint64_t parse_id(const std::string& text);
// A duration for the setting `name` ("--saga-lease", "BANYAN_SAGA_LEASE"), its errors naming it.
std::chrono::milliseconds parse_millis(const std::string& text, const std::string& name);

// CLI11 checks that run while the command line is parsed, before anything is opened.
const CLI::Validator& duration_check();
const CLI::Validator& timestamp_check();  // RFC 3339
const CLI::Validator& number_check();     // a whole number: an id, a count (never "-3")

// sqlite://<current directory>/banyan.db: where a host's database is unless told.
std::string default_database_url();

// A program's app: its name and description, --help on it and every subcommand, --version
// ("<name> 0.1.0"), and errors that name the option and end with where help is.
void describe_program(CLI::App& app, const std::string& name);

// Parses argv into `app`, then calls `run` (which holds the program's work, so nothing is
// opened for a command line that is wrong). Prints help or the version (0), a parse or
// UsageError (2), or a banyan::Error with its code and field (1); otherwise run's status.
int run_program(CLI::App& app, int argc, char** argv, const std::function<int()>& run);
// The same over an argument vector without the program's name (tests, wrappers).
int run_program(CLI::App& app, const std::vector<std::string>& args,
                const std::function<int()>& run);
// Parses `args` into `app` and throws UsageError for what CLI11 refuses (help included).
void parse_or_throw(CLI::App& app, const std::vector<std::string>& args);

// A setting that is a flag and an environment variable: key "max_body" is --max-body and
// BANYAN_MAX_BODY (and "max_body" in a configuration file).
struct Setting {
  const char* key;
  const char* value_name;  // "BYTES", "DURATION", ...
  const char* help;
};

// Settings more than one host takes: where the database is, the bus's CURVE keys, the
// least level logged.
extern const Setting kDatabaseSetting;
extern const Setting kBusKeyFileSetting;
extern const Setting kLogLevelSetting;
// A log level for the setting `name`, its errors naming it (UsageError).
LogLevel parse_log_level(const std::string& text, const std::string& name);

// Settings bound to an app: add() declares their flags; apply() hands the values given,
// the environment's first and then the flags' (which win), to `set` in table order.
class SettingFlags {
 public:
  using Set = std::function<void(const std::string& key, const std::string& value,
                                 const std::string& name)>;
  void add(CLI::App& app, const std::vector<Setting>& settings);
  void apply(const Getenv& getenv, const Set& set) const;

  static std::string flag_of(const std::string& key);
  static std::string variable_of(const std::string& key);

 private:
  std::vector<std::string> keys_;
  // Each flag's values in the order given (a repeated flag, e.g. --consumers, keeps all).
  std::map<std::string, std::vector<std::string>> given_;
};

}  // namespace banyan::host
