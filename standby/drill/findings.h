// Findings: what the hosts' indicators (agent/host/indicators.h), read
// before and after the comparison's probes, say about a verdict. A latency
// verdict from one number misleads: a primary that is slow because a
// client holds its sockets, or a standby slow because a watcher logs in
// every second, is a different story from a slower machine. So each stress
// an indicator shows becomes a finding, marked as supporting or
// contradicting the probe's verdict, and a slower host with nothing
// abnormal is said to be so. Pure; tested from tables.
#ifndef STANDBY_DRILL_FINDINGS_H_
#define STANDBY_DRILL_FINDINGS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/host/indicators.h"
#include "standby/drill/stats.h"

namespace sb::drill {

// One host's indicators around the probes.
struct HostWindow {
  std::string host;  // "primary" or "standby"
  std::optional<host::Indicators> before, after;
  double seconds = 0;  // between the two readings
  std::string unread;  // why a reading is missing
};

// How a finding bears on a verdict: stress on the slower host supports
// "slower" (it explains it), stress on the faster one contradicts it (the
// difference is not the machines' alone), stress anywhere contradicts
// "equivalent"; next to "inconclusive" a finding is context.
enum class Bearing { kSupports, kContradicts, kContext };
std::string_view BearingName(Bearing b);  // "supports", "contradicts", "context"

struct Finding {
  std::string host;  // "primary" or "standby"
  std::string kind;  // "memory-pressure", "cpu-pressure", "io-pressure", "run-queue",
                     // "swap-in", "fork-rate", "session-rate", "close-wait",
                     // "ephemeral-ports", "unread"
  std::string what;  // in words, with the figures
  Bearing bearing = Bearing::kContext;
};

// The thresholds past which an indicator is a finding (README, "The
// comparison"). Pressures are PSI avg10 percentages, the largest of the two
// readings; rates are over the window.
struct FindingRules {
  double memory_some = 10;       // % of time some task waited for memory
  double memory_full = 60;       // % all tasks did: systemd-oomd's default kill limit
  double cpu_some = 40;          // % some runnable task waited for a CPU
  double io_full = 20;           // % all tasks waited for I/O
  double run_queue = 2;          // load1 above this many times the CPUs
  uint64_t swap_in_pages = 256;  // pages swapped in over the window (1 MiB of 4 KiB)
  double forks_per_s = 100;      // processes started a second
  double sessions_per_min = 20;  // new agent or logind sessions a minute ...
  uint64_t min_sessions = 3;     // ... and at least this many
  int close_wait = 100;          // sockets in CLOSE_WAIT held by one process
  double ephemeral_used = 0.8;   // share of the ephemeral port range in use
  double min_window_s = 1;       // shorter windows give no rates
};

// Stricter rules at which the drill stops probing a primary: its load is
// past doubt and the comparison must not add to it.
FindingRules StopRules();

// The load finding (pressure or run queue) of one reading `now` of
// `host` under StopRules, if there is one: why the drill stops probing it.
// Sockets and ports are not load, and stop nothing.
std::optional<Finding> StressStop(const std::string& host, const host::Indicators& now);

// The stress `window`'s indicators show, or one "unread" finding; their
// bearing is left as context.
std::vector<Finding> ReadFindings(const HostWindow& window,
                                  const FindingRules& rules = FindingRules());

// Marks each finding's bearing on `verdict`.
void Weigh(Verdict verdict, std::vector<Finding>* findings);

// True when a finding of `host` (not an unread one) is among `findings`.
bool AnyOn(const std::vector<Finding>& findings, std::string_view host);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_FINDINGS_H_
