#include "command_line.hpp"

#include <banyan/errors.hpp>
#include <banyan/model/time.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

namespace banyan::host {

Getenv process_environment() {
  return [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
}

namespace {

std::uint64_t parse_number(const std::string& text, const std::string& what) {
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
    throw UsageError("'" + text + "' is not " + what);
  return n;
}

constexpr const char* kDurationForm = "a duration such as 90s, 15m, 2h or 7d";

// A CLI11 check from a parser that throws UsageError.
CLI::Validator checked_by(const std::function<void(const std::string&)>& parse,
                          const std::string& name) {
  return CLI::Validator(
      [parse](std::string& value) {
        try {
          parse(value);
          return std::string();
        } catch (const UsageError& e) {
          return std::string(e.what());
        }
      },
      name);
}

}  // namespace

std::chrono::microseconds parse_duration(const std::string& text) {
  const auto digits = text.empty() ? std::string() : text.substr(0, text.size() - 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() > 9)
    throw UsageError("'" + text + "' is not " + kDurationForm);
  const std::uint64_t n = parse_number(digits, kDurationForm);
  switch (text.back()) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::minutes(n);
    case 'h':
      return std::chrono::hours(n);
    case 'd':
      return std::chrono::hours(24 * n);
    default:
      throw UsageError("'" + text + "' is not " + kDurationForm);
  }
}

std::uint64_t parse_id(const std::string& text) { return parse_number(text, "an id"); }

std::chrono::milliseconds parse_millis(const std::string& text, const std::string& name) {
  try {
    return std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(text));
  } catch (const UsageError& e) {
    throw UsageError(name + ": " + e.what());
  }
}

const CLI::Validator& duration_check() {
  static const CLI::Validator check =
      checked_by([](const std::string& s) { parse_duration(s); }, "DURATION");
  return check;
}

const CLI::Validator& number_check() {
  static const CLI::Validator check =
      checked_by([](const std::string& s) { parse_number(s, "a whole number"); }, "N");
  return check;
}

const CLI::Validator& timestamp_check() {
  static const CLI::Validator check = checked_by(
      [](const std::string& s) {
        if (!parse_timestamp(s))
          throw UsageError("'" + s + "' is not an RFC 3339 time, e.g. 2026-11-29T12:00:00Z");
      },
      "TIME");
  return check;
}

std::string default_database_url() {
  return "sqlite://" + (std::filesystem::current_path() / "banyan.db").string();
}

void describe_program(CLI::App& app, const std::string& name) {
  app.name(name);
  app.set_version_flag("--version", name + " " + BANYAN_HOST_VERSION);
  app.set_help_all_flag("--help-all", "Print help for every subcommand and exit");
  // run_program reports every error through the program's own app.
  app.failure_message([](const CLI::App* program, const CLI::Error& e) {
    return program->get_name() + ": " + e.what() + "\nRun '" + program->get_name() +
           " --help' for the usage.\n";
  });
}

namespace {
void parse(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  app.parse(reversed);
}
}  // namespace

void parse_or_throw(CLI::App& app, const std::vector<std::string>& args) {
  try {
    parse(app, args);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.get_name() == "CallForHelp" ? std::string("--help") : std::string(e.what()));
  }
}

int run_program(CLI::App& app, const std::vector<std::string>& args,
                const std::function<int()>& run) {
  try {
    parse(app, args);
  } catch (const CLI::ParseError& e) {
    // "banyan bogus" leaves a command required and "bogus" unused: name what was wrong.
    const auto unused = app.remaining(true);
    if (e.get_name() == "RequiredError" && !unused.empty()) {
      app.exit(CLI::ExtrasError(unused));
      return 2;
    }
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return run();
  } catch (const UsageError& e) {
    app.exit(CLI::ValidationError(e.what()));
    return 2;
  } catch (const Error& e) {
    std::cerr << app.get_name() << ": " << to_string(e.code()) << ": " << e.what();
    if (!e.field().empty()) std::cerr << " (field " << e.field() << ")";
    std::cerr << std::endl;
    return 1;
  }
}

int run_program(CLI::App& app, int argc, char** argv, const std::function<int()>& run) {
  return run_program(app, std::vector<std::string>(argv + 1, argv + argc), run);
}

const Setting kDatabaseSetting = {"database", "URL",
                                  "sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/NAME "
                                  "(sqlite://<current directory>/banyan.db)"};
const Setting kLogLevelSetting = {"log_level", "LEVEL",
                                  "The least level logged: debug, info, warning or error (info)"};

LogLevel parse_log_level(const std::string& text, const std::string& name) {
  try {
    return banyan::parse_log_level(text);
  } catch (const Error& e) {
    throw UsageError(name + ": " + e.what());
  }
}

const Setting kBusKeyFileSetting = {
    "bus_key_file", "FILE",
    "The deployment's CURVE keys, for the bus on tcp:// (make them with: banyan bus keygen)"};

std::string SettingFlags::flag_of(const std::string& key) {
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

std::string SettingFlags::variable_of(const std::string& key) {
  std::string name = "BANYAN_" + key;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return name;
}

void SettingFlags::add(CLI::App& app, const std::vector<Setting>& settings) {
  for (const auto& s : settings) {
    keys_.emplace_back(s.key);
    app.add_option(flag_of(s.key), given_[s.key],
                   std::string(s.help) + " [" + variable_of(s.key) + "]")
        ->type_name(s.value_name)
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
}

void SettingFlags::apply(const Getenv& getenv, const Set& set) const {
  for (const auto& key : keys_) {
    const std::string variable = variable_of(key);
    if (auto v = getenv(variable.c_str())) set(key, *v, variable);
  }
  for (const auto& key : keys_)
    for (const auto& value : given_.at(key)) set(key, value, flag_of(key));
}

}  // namespace banyan::host
