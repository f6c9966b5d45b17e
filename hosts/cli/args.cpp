#include "args.hpp"

#include <charconv>

namespace banyan::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valued) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positionals_.push_back(a);
    } else if (valued.count(a) != 0) {
      if (i + 1 >= argv.size()) throw UsageError(a + " needs a value");
      options_[a].push_back(argv[++i]);
    } else {
      flags_.insert(a);
    }
  }
}

void Args::only_switches(const std::set<std::string>& known) const {
  for (const auto& f : flags_)
    if (known.count(f) == 0) throw UsageError("unknown option " + f);
}

std::optional<std::string> Args::option(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = options_.find(name);
  return it == options_.end() ? std::vector<std::string>{} : it->second;
}

namespace {
std::uint64_t parse_number(const std::string& text, const std::string& what) {
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
    throw UsageError("'" + text + "' is not " + what);
  return n;
}
}  // namespace

std::chrono::microseconds parse_duration(const std::string& text) {
  if (text.size() < 2) throw UsageError("'" + text + "' is not a duration such as 90s, 15m, 2h or 7d");
  const char unit = text.back();
  const std::uint64_t n = parse_number(text.substr(0, text.size() - 1), "a duration such as 90s, 15m, 2h or 7d");
  std::chrono::seconds s{0};
  switch (unit) {
    case 's': s = std::chrono::seconds(n); break;
    case 'm': s = std::chrono::minutes(n); break;
    case 'h': s = std::chrono::hours(n); break;
    case 'd': s = std::chrono::hours(24 * n); break;
    default: throw UsageError("'" + text + "' is not a duration such as 90s, 15m, 2h or 7d");
  }
  return s;
}

std::uint64_t parse_id(const std::string& text) { return parse_number(text, "an id"); }

}  // namespace banyan::cli
