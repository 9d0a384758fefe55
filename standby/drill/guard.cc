#include "standby/drill/guard.h"

#include <csignal>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sb::drill {

Guard::Guard(Clock& clock, const std::atomic<int>* stop) : clock_(clock), stop_(stop) {
  watcher_ = std::thread([this] { Watcher(); });
}

Guard::~Guard() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  watcher_.join();
}

void Guard::SetDeadline(int64_t deadline_mono_ns, std::string what) {
  std::lock_guard<std::mutex> lock(mu_);
  deadline_ns_ = deadline_mono_ns;
  deadline_what_ = std::move(what);
}

void Guard::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
  session_ = nullptr;
}

void Guard::Watch(AgentSession* session) {
  std::lock_guard<std::mutex> lock(mu_);
  session_ = session;
  if (session_ != nullptr && !why_.empty()) session_->Interrupt();
}

std::string Guard::Tripped() {
  std::lock_guard<std::mutex> lock(mu_);
  Check();
  return why_;
}

bool Guard::by_signal() {
  std::lock_guard<std::mutex> lock(mu_);
  return by_signal_;
}

bool Guard::Sleep(std::chrono::milliseconds d) {
  return clock_.Wait(d, [this] { return !Tripped().empty(); });
}

void Guard::Check() {
  if (!armed_ || !why_.empty()) return;
  const int sig = stop_ != nullptr ? stop_->load() : 0;
  if (sig != 0) {
    why_ = fmt::format("stopped by {}", sig == SIGINT    ? "SIGINT"
                                        : sig == SIGTERM ? "SIGTERM"
                                                         : "a signal");
    by_signal_ = true;
  } else if (deadline_ns_ && clock_.Now().mono_ns >= *deadline_ns_) {
    why_ = deadline_what_;
  }
  if (why_.empty()) return;
  spdlog::warn("drill: {}; going to shutdown", why_);
  if (session_ != nullptr) session_->Interrupt();
}

// A blocked call does not come back to ask Tripped(): this thread asks for
// it, every 100 ms of real time, and breaks the watched session.
void Guard::Watcher() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (!done_) Check();
  }
}

}  // namespace sb::drill
