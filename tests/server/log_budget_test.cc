#include "agent/server/log_budget.h"

#include <chrono>

#include <catch2/catch.hpp>

namespace sb::agent {
namespace {

using std::chrono::seconds;

TEST_CASE("log budget: a flood logs its budget, then one count per window", "[log_budget]") {
  LogBudget budget(3, seconds(10));
  const LogBudget::Clock::time_point t0 = LogBudget::Clock::time_point() + std::chrono::hours(1);
  int logged = 0;
  for (int i = 0; i < 1000; ++i) logged += budget.Take(t0 + std::chrono::milliseconds(i));
  CHECK(logged == 3);
  // While the window runs, nothing to summarize yet.
  CHECK(budget.TakeSuppressed(t0 + seconds(5)) == 0);
  // Once it is over, the 997 not logged are reported once.
  CHECK(budget.TakeSuppressed(t0 + seconds(10)) == 997);
  CHECK(budget.TakeSuppressed(t0 + seconds(30)) == 0);
  // The new window has its budget again.
  CHECK(budget.Take(t0 + seconds(11)));
}

TEST_CASE("log budget: events that open a new window keep the old window's count", "[log_budget]") {
  LogBudget budget(1, seconds(10));
  const LogBudget::Clock::time_point t0 = LogBudget::Clock::time_point() + std::chrono::hours(1);
  CHECK(budget.Take(t0));
  CHECK_FALSE(budget.Take(t0 + seconds(1)));
  CHECK_FALSE(budget.Take(t0 + seconds(2)));
  // The next event opens a window; the two not logged are still owed.
  CHECK(budget.Take(t0 + seconds(12)));
  CHECK_FALSE(budget.Take(t0 + seconds(13)));
  CHECK(budget.TakeSuppressed(t0 + seconds(14)) == 2);
  CHECK(budget.TakeSuppressed(t0 + seconds(22)) == 1);
  CHECK(budget.TakeSuppressed(t0 + seconds(40)) == 0);
}

}  // namespace
}  // namespace sb::agent
