// Command-line arguments: "--name value" options, "--flag" switches and positionals.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace banyan::cli {

// Thrown for a malformed command line; main prints the message and the usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // `valued` names the options that take a value; every other "--x" is a switch.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued);

  // The value of an option (the last, when it is given more than once).
  std::optional<std::string> option(const std::string& name) const;
  // Every value of an option given more than once ("--role a --role b").
  std::vector<std::string> all(const std::string& name) const;
  bool flag(const std::string& name) const { return flags_.count(name) != 0; }
  // UsageError naming the first switch that is not in `known`.
  void only_switches(const std::set<std::string>& known) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> options_;
  std::set<std::string> flags_;
  std::vector<std::string> positionals_;
};

// "90s", "15m", "2h", "7d" (a whole number and a unit).
std::chrono::microseconds parse_duration(const std::string& text);
std::uint64_t parse_id(const std::string& text);

}  // namespace banyan::cli
