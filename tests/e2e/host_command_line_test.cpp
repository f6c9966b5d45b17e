// The three hosts' command lines as an operator meets them, run as real processes in an
// empty directory with an empty environment: help and version that open nothing, wrong
// lines that exit 2 naming the problem and create nothing, settings from BANYAN_*
// variables that flags override.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace banyan::test {
namespace {

class HostCommandLine : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "banyan-hosts-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `argv` in the scratch directory with nothing in its environment but `env`.
  CommandResult run(const std::vector<std::string>& argv,
                    const std::vector<std::string>& env = {}) const {
    std::vector<std::string> command{"/usr/bin/env", "-i", "-C", dir_};
    command.insert(command.end(), env.begin(), env.end());
    command.insert(command.end(), argv.begin(), argv.end());
    return run_command(command);
  }
  bool nothing_created() const { return std::filesystem::is_empty(dir_); }
  std::string url(const std::string& file) const { return "sqlite://" + dir_ + "/" + file; }
  bool exists(const std::string& file) const { return std::filesystem::exists(dir_ + "/" + file); }

  std::string dir_;
};

TEST_F(HostCommandLine, HelpAndVersionAnswerWithoutOpeningADatabase) {
  for (const std::string program : {BANYAN_CLI, BANYAN_SERVER, BANYAN_WORKER}) {
    const auto help = run({program, "--help"});
    EXPECT_EQ(help.status, 0) << program << help.output;
    EXPECT_NE(help.output.find("Usage: "), std::string::npos) << program;
    EXPECT_NE(help.output.find("--database URL"), std::string::npos) << program;
    EXPECT_NE(help.output.find("[BANYAN_DATABASE]"), std::string::npos) << program;
    const auto version = run({program, "--version"});
    EXPECT_EQ(version.status, 0) << program;
    EXPECT_NE(version.output.find(" " BANYAN_VERSION "\n"), std::string::npos) << version.output;
  }
  EXPECT_TRUE(nothing_created());
}

TEST_F(HostCommandLine, EveryCliCommandHasItsOwnHelp) {
  const std::vector<std::string> commands = {"init",
                                             "demo",
                                             "summary",
                                             "pool-stats",
                                             "user add",
                                             "user show",
                                             "user link",
                                             "user unlink",
                                             "role list",
                                             "role show",
                                             "role create",
                                             "role delete",
                                             "role assign",
                                             "role revoke",
                                             "apikey create",
                                             "apikey list",
                                             "apikey revoke",
                                             "audit verify",
                                             "audit checkpoint",
                                             "audit list",
                                             "audit history",
                                             "encryption keygen",
                                             "encryption status",
                                             "encryption rewrap",
                                             "bus keygen",
                                             "dlq list",
                                             "dlq show",
                                             "dlq replay",
                                             "dlq purge",
                                             "dlq stats"};
  for (const auto& command : commands) {
    std::vector<std::string> argv{BANYAN_CLI};
    for (std::size_t start = 0; start < command.size();) {
      const auto space = std::min(command.find(' ', start), command.size());
      argv.push_back(command.substr(start, space - start));
      start = space + 1;
    }
    argv.push_back("--help");
    const auto help = run(argv);
    EXPECT_EQ(help.status, 0) << command;
    EXPECT_NE(help.output.find("Usage: banyan " + command), std::string::npos) << command << "\n"
                                                                               << help.output;
  }
  EXPECT_TRUE(nothing_created());
}

TEST_F(HostCommandLine, AWrongCommandLineExitsTwoNamingTheProblemAndCreatesNothing) {
  struct Case {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{BANYAN_CLI}, {}, "A subcommand is required"},
      {{BANYAN_CLI, "bogus"}, {}, "not expected: bogus"},
      {{BANYAN_CLI, "dlq", "bogus"}, {}, "not expected: bogus"},
      {{BANYAN_CLI, "--database"}, {}, "--database"},
      {{BANYAN_CLI, "dlq", "list", "--older-than", "soon"}, {}, "'soon' is not a duration"},
      {{BANYAN_CLI, "dlq", "show", "seven"}, {}, "'seven' is not a whole number"},
      {{BANYAN_CLI, "dlq", "purge"}, {}, "takes one id, or a filter, or --all"},
      {{BANYAN_CLI, "dlq", "replay", "7", "--queue", "effects"},
       {},
       "takes one id, or a filter, or --all"},
      {{BANYAN_CLI, "apikey", "revoke", "-3"}, {}, "'-3' is not a whole number"},
      {{BANYAN_CLI, "user", "add", "--name", "Ada"}, {}, "--email is required"},
      {{BANYAN_CLI, "user", "add", "--email", "a@example.com", "--name", "A", "--team", "x"},
       {},
       "--team"},
      {{BANYAN_CLI, "role", "create", "auditor", "--grant", "deal-read"}, {}, "TYPE:ACTION:SCOPE"},
      {{BANYAN_CLI, "audit", "list", "--from", "yesterday"}, {}, "RFC 3339"},
      {{BANYAN_CLI, "audit", "list", "--object", "contact"}, {}, "TYPE:ID"},
      {{BANYAN_CLI, "audit", "checkpoint"}, {}, "--anchor is required"},
      {{BANYAN_WORKER, "--bogus"}, {}, "not expected: --bogus"},
      {{BANYAN_WORKER, "--relay-lease", "soon"}, {}, "--relay-lease: 'soon'"},
      {{BANYAN_WORKER}, {"BANYAN_RELAY_LEASE=soon"}, "BANYAN_RELAY_LEASE: 'soon'"},
      {{BANYAN_WORKER, "--consumers", "0"}, {}, "--consumers"},
      {{BANYAN_SERVER, "stray"}, {}, "not expected: stray"},
      {{BANYAN_SERVER, "--listen", "nope"}, {}, "--listen: 'nope' is not HOST:PORT"},
      {{BANYAN_SERVER}, {"BANYAN_MAX_JSON_MEMBERS=many"}, "BANYAN_MAX_JSON_MEMBERS"},
  };
  for (const auto& c : cases) {
    std::string line;
    for (const auto& a : c.argv) line += a.substr(a.rfind('/') + 1) + " ";
    const auto result = run(c.argv, c.env);
    EXPECT_EQ(result.status, 2) << line << "\n" << result.output;
    EXPECT_NE(result.output.find(c.says), std::string::npos) << line << "\n" << result.output;
    EXPECT_NE(result.output.find("--help' for the usage"), std::string::npos) << line;
    EXPECT_TRUE(nothing_created()) << line;
  }
}

TEST_F(HostCommandLine, TheDatabaseComesFromBanyanDatabaseUnlessTheFlagSaysOtherwise) {
  const auto by_default = run({BANYAN_CLI, "init"});
  EXPECT_EQ(by_default.status, 0) << by_default.output;
  EXPECT_TRUE(exists("banyan.db"));

  const std::string env = "BANYAN_DATABASE=" + url("env.db");
  const auto by_env = run({BANYAN_CLI, "init"}, {env});
  EXPECT_EQ(by_env.status, 0) << by_env.output;
  EXPECT_NE(by_env.output.find(url("env.db")), std::string::npos);

  // The flag wins, in either form and on either side of the command.
  const auto by_flag = run({BANYAN_CLI, "init", "--database=" + url("flag.db")}, {env});
  EXPECT_NE(by_flag.output.find(url("flag.db")), std::string::npos) << by_flag.output;
  const auto before = run({BANYAN_CLI, "--database", url("before.db"), "pool-stats"}, {env});
  EXPECT_EQ(before.status, 0) << before.output;
  EXPECT_TRUE(exists("flag.db") && exists("before.db"));
}

TEST_F(HostCommandLine, CommandsThatNeedNoDatabaseOpenNone) {
  const auto key = run({BANYAN_CLI, "encryption", "keygen", "--id=k9"});
  EXPECT_EQ(key.status, 0);
  EXPECT_EQ(key.output.rfind("k9:", 0), 0u) << key.output;
  EXPECT_EQ(run({BANYAN_CLI, "bus", "keygen"}).status, 0);
  EXPECT_TRUE(nothing_created());
}

// The demo data set (examples/demo) goes in through the Engine: loading it twice leaves
// what one load leaves, and the reports read it back through the principal.
TEST_F(HostCommandLine, TheDemoLoadsOnceHoweverOftenItRunsAndReportsWhatItHolds) {
  const auto first = run({BANYAN_CLI, "demo", "--database", url("demo.db")});
  ASSERT_EQ(first.status, 0) << first.output;
  const auto second = run({BANYAN_CLI, "demo", "--database", url("demo.db")});
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_EQ(first.output, second.output);
  for (const std::string& expected :
       {"Demo data loaded into " + url("demo.db"), std::string("Pipeline: New business"),
        std::string("Negotiation (75%)"),
        std::string("Contacts by tier (custom field): gold 2 silver 3 bronze 2"),
        std::string("Largest ARR (custom field): Globex, 2150000.00 USD"),
        std::string("Converted lead: Grace Brewster -> contact "),
        std::string("at Umbrella Health, deal \"Umbrella research wing\"")})
    EXPECT_NE(first.output.find(expected), std::string::npos) << expected << "\n" << first.output;
  // One converted lead, however often the demo ran (its contact took the default tier).
  const auto converted = first.output.find("Converted lead:");
  EXPECT_EQ(first.output.find("Converted lead:", converted + 1), std::string::npos);
}

}  // namespace
}  // namespace banyan::test
