// Host indicators: what a host's kernel says about its load, memory and
// network, read from /proc. One indicator alone misleads (a client out of
// ephemeral ports looks like a broken server), so the agent reports them
// together and the controller weighs them against each other.
//
// Every reader takes the proc root as a parameter, so tests can point it at
// a directory they made. Missing files (no PSI on older kernels) leave the
// indicator absent rather than failing. Thread-safe.

#ifndef AGENT_HOST_INDICATORS_H_
#define AGENT_HOST_INDICATORS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/base/status.h"

namespace sb::host {

struct Pressure {  // one line of /proc/pressure/*: averages in percent
  double some_avg10 = 0, some_avg60 = 0, some_avg300 = 0;
  std::optional<double> full_avg10, full_avg60, full_avg300;  // not for cpu on old kernels
};

struct SocketOwner {
  int pid = 0;
  std::string command;
  int sockets = 0;
};

struct Indicators {
  double load1 = 0, load5 = 0, load15 = 0;
  int cpus = 0;           // online, from /proc/stat's cpuN lines
  int procs_running = 0;  // the run queue now (/proc/stat)
  uint64_t forks = 0;     // processes created since boot (/proc/stat)
  std::optional<Pressure> cpu, memory, io;
  uint64_t mem_total_kb = 0, mem_available_kb = 0, swap_total_kb = 0, swap_free_kb = 0;
  uint64_t swap_in_pages = 0, swap_out_pages = 0;  // since boot (pswpin, pswpout)
  std::map<std::string, int> tcp_states;           // "ESTABLISHED" -> count, IPv4 and IPv6
  int close_wait = 0, time_wait = 0;
  std::vector<SocketOwner> close_wait_owners;  // where /proc/PID/fd was readable
  int ephemeral_low = 0, ephemeral_high = 0;   // ip_local_port_range
  int ephemeral_in_use = 0;                    // distinct local ports in that range
  // Logins: the sessions systemd-logind holds now and the highest numeric
  // session ID it has given (IDs only grow, so two readings count the
  // logins between them); absent without logind.
  std::optional<int> logind_sessions;
  std::optional<uint64_t> logind_last_id;
  // Sessions this host's agent has greeted since it started (set by the
  // agent, not read from /proc).
  std::optional<uint64_t> agent_sessions;
};

// Reads every indicator under `proc_root` ("/proc" on a real host) and the
// logind sessions under `run_root` ("/run").
Indicators ReadIndicators(const std::string& proc_root = "/proc",
                          const std::string& run_root = "/run");

nlohmann::json ToJson(const Indicators& indicators);

// The inverse of ToJson, for the controller; errors name the field.
// Fields a older agent does not send stay absent or zero.
base::Result<Indicators> IndicatorsFromJson(const nlohmann::json& j);

}  // namespace sb::host

#endif  // AGENT_HOST_INDICATORS_H_
