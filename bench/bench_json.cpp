// The request parser (hosts/server/json_body.cpp) on the worst ~1 MiB bodies we could
// build, beside nlohmann's own DOM parser without limits on the same bytes (the limit:
// no duplicate-key, depth or size checks at all). Limits are raised so each body is read
// whole; with the server's defaults the first two shapes are refused within their first
// members (json_body_test.cpp).
#include <benchmark/benchmark.h>

#include <string>

#include "json_body.hpp"

namespace {

constexpr std::size_t kMiB = 1 << 20;

// Appends `piece(i)` until the body is about 1 MiB, between `open` and `close`.
template <typename Piece>
std::string body_of(const std::string& open, Piece piece, const std::string& close) {
  std::string body = open;
  for (std::size_t i = 0; body.size() < kMiB; ++i) body += (i ? "," : "") + piece(i);
  return body + close;
}

std::string shape(int which) {
  switch (which) {
    case 0:  // one object of 87,000 short keys
      return body_of(
          "{", [](std::size_t i) { return "\"k" + std::to_string(i) + "\":0"; }, "}");
    case 1:  // one array of empty objects
      return body_of(
          "{\"items\":[", [](std::size_t) { return std::string("{}"); }, "]}");
    case 2:  // one array of one-digit numbers: the most values per byte
      return body_of(
          "[", [](std::size_t) { return std::string("0"); }, "]");
    case 3:  // nesting to the depth limit, over and over
      return body_of(
          "[", [](std::size_t) { return std::string(31, '[') + std::string(31, ']'); }, "]");
    case 4:  // escaped strings: every character a \u escape
      return body_of(
          "[", [](std::size_t) { return std::string("\"\\u00e9\\u00e9\\u00e9\\u00e9\""); }, "]");
    default:  // what the defaults let through: objects of 1,000 members each
      return body_of(
          "{\"items\":[",
          [](std::size_t) {
            std::string o = "{";
            for (int k = 0; k < 1000; ++k) o += (k ? ",\"k" : "\"k") + std::to_string(k) + "\":1";
            return o + "}";
          },
          "]}");
  }
}

const char* const kShapeNames[] = {"keys_in_one_object",   "empty_objects_in_one_array",
                                   "numbers_in_one_array", "nested_to_the_limit",
                                   "escaped_strings",      "default_limits_widest"};

banyan::rest::JsonLimits wide() {
  banyan::rest::JsonLimits l;
  l.max_members = 1 << 24;
  l.max_elements = 1 << 24;
  return l;
}

void BM_Banyan(benchmark::State& state) {
  const std::string body = shape(static_cast<int>(state.range(0)));
  const auto limits = state.range(0) == 5 ? banyan::rest::JsonLimits{} : wide();
  for (auto _ : state) benchmark::DoNotOptimize(banyan::rest::parse_json_within(body, limits));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel(kShapeNames[state.range(0)]);
}

void BM_NlohmannUnchecked(benchmark::State& state) {
  const std::string body = shape(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(nlohmann::json::parse(body));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetLabel(kShapeNames[state.range(0)]);
}

BENCHMARK(BM_Banyan)->Name("json/banyan")->DenseRange(0, 5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NlohmannUnchecked)
    ->Name("json/nlohmann_unchecked")
    ->DenseRange(0, 5)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
