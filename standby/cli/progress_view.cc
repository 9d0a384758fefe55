#include "standby/cli/progress_view.h"

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"

namespace sb::cli {

ProgressView::ProgressView() : tty_(::isatty(2) == 1) {}

std::string ProgressView::Line(const restore::RestoreProgress& p) {
  const double seconds = std::max(0.001, std::chrono::duration<double>(p.elapsed).count());
  const double rate = static_cast<double>(p.done) / seconds;
  const std::string eta = rate > 0 && p.done < p.total
                              ? base::FormatDuration(base::Duration(static_cast<int64_t>(
                                    static_cast<double>(p.total - p.done) / rate * 1000)))
                              : "-";
  return fmt::format("{} {}: {} of {}, {}/s, ETA {}", p.step, p.subject, base::FormatSize(p.done),
                     base::FormatSize(p.total), base::FormatSize(static_cast<uint64_t>(rate)), eta);
}

void ProgressView::Show(const restore::RestoreProgress& p) {
  if (p.ended) {
    if (drawn_) fmt::print(stderr, "\n");
    drawn_ = false;
    shown_at_ = std::chrono::milliseconds(-1'000'000);
    return;
  }
  const std::chrono::milliseconds every =
      tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5'000);
  if (p.elapsed < std::chrono::seconds(2) || p.elapsed - shown_at_ < every) return;
  shown_at_ = p.elapsed;
  if (tty_) {
    fmt::print(stderr, "\r{:<100}", Line(p));
    drawn_ = true;
  } else {
    spdlog::info("{}", Line(p));
  }
}

}  // namespace sb::cli
