// The clock seam: the real clock reads the system's clocks; a ManualClock moves only when
// told, both readings together, never backwards on the steady one.
#include <gtest/gtest.h>

#include "banyan/clock.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

TEST(Clock, TheRealClockReadsTheSystemsClocks) {
  const auto clock = Clock::real();
  ASSERT_NE(clock, nullptr);
  EXPECT_EQ(clock, Clock::real()) << "one shared clock";
  const auto steady_before = std::chrono::steady_clock::now();
  const auto wall_before = std::chrono::system_clock::now();
  const auto steady = clock->steady();
  const auto wall = clock->wall();
  EXPECT_GE(steady, steady_before);
  EXPECT_LE(steady, std::chrono::steady_clock::now());
  EXPECT_GE(wall, std::chrono::floor<std::chrono::microseconds>(wall_before));
  EXPECT_LE(wall, std::chrono::system_clock::now());
}

TEST(Clock, AManualClockStandsStillUntilAdvancedAndMovesBothReadingsTogether) {
  ManualClock clock;
  const auto steady = clock.steady();
  const auto wall = clock.wall();
  EXPECT_EQ(clock.steady(), steady);
  EXPECT_EQ(clock.wall(), wall);
  clock.advance(1500us);
  EXPECT_EQ(clock.steady() - steady, 1500us);
  EXPECT_EQ(clock.wall() - wall, 1500us);
  clock.advance(-1s);
  EXPECT_EQ(clock.steady() - steady, 1500us) << "a negative step is none";
}

TEST(Clock, SettingAManualClocksWallTimeLeavesItsSteadyReadingAlone) {
  ManualClock clock;
  const auto steady = clock.steady();
  const Timestamp past{std::chrono::microseconds(1'000'000)};
  clock.set_wall(past);
  EXPECT_EQ(clock.wall(), past);
  EXPECT_EQ(clock.steady(), steady);
  clock.advance(2s);
  EXPECT_EQ(clock.wall(), past + 2s);
}

}  // namespace
}  // namespace banyan::test
