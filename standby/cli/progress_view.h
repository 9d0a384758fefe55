// A restore's progress as the commands show it (`restore`, `drill`, `prep`):
// nothing for a step's first two seconds; then, on a terminal, one line on
// stderr redrawn every 200 ms (bytes done of the step's, rate, ETA) and
// ended when the step ends; otherwise a log line every 5 seconds.
#ifndef STANDBY_CLI_PROGRESS_VIEW_H_
#define STANDBY_CLI_PROGRESS_VIEW_H_

#include <chrono>
#include <functional>
#include <string>

#include "standby/restore/restore_run.h"

namespace sb::cli {

class ProgressView {
 public:
  ProgressView();
  ProgressView(const ProgressView&) = delete;
  ProgressView& operator=(const ProgressView&) = delete;

  void Show(const restore::RestoreProgress& p);
  // Show, as a RestoreSpec's on_progress; the view must outlive its use.
  std::function<void(const restore::RestoreProgress&)> Callback() {
    return [this](const restore::RestoreProgress& p) { Show(p); };
  }

  // The line Show draws or logs for `p`.
  static std::string Line(const restore::RestoreProgress& p);

 private:
  const bool tty_;
  bool drawn_ = false;
  std::chrono::milliseconds shown_at_{-1'000'000};  // the step's elapsed time at the last line
};

}  // namespace sb::cli

#endif  // STANDBY_CLI_PROGRESS_VIEW_H_
