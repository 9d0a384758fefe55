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
  std::optional<Pressure> cpu, memory, io;
  uint64_t mem_total_kb = 0, mem_available_kb = 0, swap_total_kb = 0, swap_free_kb = 0;
  uint64_t swap_in_pages = 0, swap_out_pages = 0;  // since boot (pswpin, pswpout)
  std::map<std::string, int> tcp_states;           // "ESTABLISHED" -> count, IPv4 and IPv6
  int close_wait = 0, time_wait = 0;
  std::vector<SocketOwner> close_wait_owners;  // where /proc/PID/fd was readable
  int ephemeral_low = 0, ephemeral_high = 0;   // ip_local_port_range
  int ephemeral_in_use = 0;                    // distinct local ports in that range
};

// Reads every indicator under `proc_root` ("/proc" on a real host).
Indicators ReadIndicators(const std::string& proc_root = "/proc");

nlohmann::json ToJson(const Indicators& indicators);

}  // namespace sb::host

#endif  // AGENT_HOST_INDICATORS_H_
