#include "banyan/clock.hpp"

#include <algorithm>

namespace banyan {
namespace {

class RealClock final : public Clock {
 public:
  [[nodiscard]] std::chrono::steady_clock::time_point steady() const override {
    return std::chrono::steady_clock::now();
  }
  [[nodiscard]] Timestamp wall() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

std::int64_t micros(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::shared_ptr<const Clock> Clock::real() {
  static const auto clock = std::make_shared<const RealClock>();
  return clock;
}

ManualClock::ManualClock()
    : steady_us_(micros(std::chrono::steady_clock::now())),
      wall_us_(Clock::real()->wall().time_since_epoch().count()) {}

std::chrono::steady_clock::time_point ManualClock::steady() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::microseconds(steady_us_.load())));
}

Timestamp ManualClock::wall() const {
  return Timestamp(std::chrono::microseconds(wall_us_.load()));
}

void ManualClock::advance(std::chrono::microseconds by) {
  const std::int64_t step = std::max<std::int64_t>(0, by.count());
  steady_us_.fetch_add(step);
  wall_us_.fetch_add(step);
}

void ManualClock::set_wall(Timestamp at) { wall_us_.store(at.time_since_epoch().count()); }

}  // namespace banyan
