// Test seam for the crash trials (tests/restore/crash_trials_test.cc): with
// STANDBY_AGENT_CRASH_POINT=N in the environment the agent SIGKILLs itself at
// the N-th crash point of its restores; STANDBY_AGENT_CRASH_TALLY=FILE makes
// it write how many points it passed to FILE at each one. Without them, a
// no-op. Thread-safe.

#ifndef AGENT_SYNC_CRASH_POINT_H_
#define AGENT_SYNC_CRASH_POINT_H_

namespace sb::sync {

void CrashPoint();

}  // namespace sb::sync

#endif  // AGENT_SYNC_CRASH_POINT_H_
