// The restore's progress as the commands show it, off a terminal (the
// tests' stderr is not one): quiet for two seconds, then a log line every
// five seconds.

#include "standby/cli/progress_view.h"

#include <catch2/catch.hpp>

#include "tests/support/log_capture.h"

namespace sb::cli {
namespace {

restore::RestoreProgress At(int64_t elapsed_ms, uint64_t done) {
  restore::RestoreProgress p;
  p.step = "transfer";
  p.subject = "/srv/www";
  p.total = 100 << 20;
  p.done = done;
  p.elapsed = std::chrono::milliseconds(elapsed_ms);
  return p;
}

TEST_CASE("progress view: the line says bytes done, rate and time left", "[cli][progress]") {
  CHECK(ProgressView::Line(At(10'000, 50 << 20)) ==
        "transfer /srv/www: 50.0 MiB of 100.0 MiB, 5.0 MiB/s, ETA 10s");
  CHECK(ProgressView::Line(At(10'000, 100 << 20)).find("ETA -") != std::string::npos);
}

TEST_CASE("progress view: nothing for two seconds, then a log line every five", "[cli][progress]") {
  sb::testing::LogCapture log;
  ProgressView view;
  for (int64_t ms = 0; ms <= 13'000; ms += 100) view.Show(At(ms, static_cast<uint64_t>(ms) << 10));
  std::vector<std::string> lines;
  for (const std::string& l : log.Lines()) {
    if (l.find("transfer /srv/www") != std::string::npos) lines.push_back(l);
  }
  // At 2 s, 7 s and 12 s.
  CHECK(lines.size() == 3);
}

}  // namespace
}  // namespace sb::cli
