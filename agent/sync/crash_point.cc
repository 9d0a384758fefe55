#include "agent/sync/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "agent/base/file.h"

namespace sb::sync {

void CrashPoint() {
  static const long crash_at = [] {
    const char* v = std::getenv("STANDBY_AGENT_CRASH_POINT");
    return v == nullptr ? 0L : std::strtol(v, nullptr, 10);
  }();
  static const char* tally = std::getenv("STANDBY_AGENT_CRASH_TALLY");
  static std::atomic<long> passed{0};
  if (crash_at <= 0 && tally == nullptr) return;
  const long n = ++passed;
  if (tally != nullptr) {
    (void)base::WriteFileAtomically(tally, std::to_string(n), 0600);
  }
  if (n == crash_at) ::kill(::getpid(), SIGKILL);
}

}  // namespace sb::sync
