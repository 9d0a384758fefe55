// What follows a drill's end: on_failure's failures are logged and change
// nothing, it runs only for failed and aborted drills, and a metrics_dir
// that cannot be written is logged.

#include "standby/cli/after_drill.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/report/report_series.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"

namespace sb::cli {
namespace {

using sb::testing::LogCapture;
using sb::testing::TempDir;

// The id of a drill of web1-standby in the series with `result` and, if
// given, the failed `phase`.
int64_t DrillWith(store::StateStore& store, store::DrillResult result,
                  const std::string& phase = "") {
  auto drills = store.ListDrills({"web1-standby", 1000});
  REQUIRE(drills.ok());
  for (const store::DrillRecord& d : *drills) {
    if (d.outcome.result == result && (phase.empty() || d.outcome.failed_phase == phase)) {
      return d.id;
    }
  }
  FAIL("no such drill in the series");
  return 0;
}

TEST_CASE("after drill: a failing or hanging on_failure is logged and changes nothing",
          "[cli][after]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const int64_t failed = DrillWith(*series.store, store::DrillResult::kFailed, "boot");
  LogCapture log;

  series.config.controller.on_failure = {"/bin/sh", "-c",
                                         "cat >/dev/null; echo pager down >&2; exit 3"};
  AfterDrill(series.config, *series.store, failed);
  CHECK(log.WaitFor({"drill " + std::to_string(failed) + " of web1-standby failed in boot: "}));
  INFO(log.Dump());
  CHECK(log.WaitFor(
      {"on_failure /bin/sh for drill " + std::to_string(failed), "exit 3: pager down"}));

  series.config.controller.on_failure = {"/bin/sleep", "30"};
  series.config.controller.on_failure_timeout = std::chrono::seconds(1);
  AfterDrill(series.config, *series.store, failed);
  CHECK(log.WaitFor({"on_failure /bin/sleep for drill", "timed out"}));

  // The record is as it was.
  auto record = series.store->GetDrill(failed);
  REQUIRE(record.ok());
  CHECK(record->outcome.result == store::DrillResult::kFailed);
  CHECK(record->outcome.failed_phase == "boot");
}

TEST_CASE("after drill: on_failure runs for failed and aborted drills only", "[cli][after]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const std::string marks = dir.Sub("marks");
  series.config.controller.on_failure = {"/bin/sh", "-c",
                                         "cat >/dev/null; echo $STANDBYCTL_RESULT >> " + marks};
  LogCapture log;
  AfterDrill(series.config, *series.store, DrillWith(*series.store, store::DrillResult::kPassed));
  CHECK(::access(marks.c_str(), F_OK) != 0);
  AfterDrill(series.config, *series.store, DrillWith(*series.store, store::DrillResult::kAborted));
  AfterDrill(series.config, *series.store,
             DrillWith(*series.store, store::DrillResult::kFailed, "smoke"));
  CHECK(testing::ReadWholeFile(marks) == "aborted\nfailed\n");
}

TEST_CASE("after drill: a metrics_dir that cannot be written is logged", "[cli][after]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  series.config.controller.metrics_dir = dir.Sub("absent");
  LogCapture log;
  AfterDrill(series.config, *series.store, DrillWith(*series.store, store::DrillResult::kPassed));
  INFO(log.Dump());
  CHECK(log.WaitFor({"metrics_dir " + dir.Sub("absent") + ": standbyctl.prom not updated: "}));
}

}  // namespace
}  // namespace sb::cli
