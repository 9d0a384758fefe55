#include "agent/host/indicators.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace sb::host {
namespace {

// Bounds on the /proc walk that finds CLOSE_WAIT owners: a host with huge
// process tables must not make the agent itself the load.
constexpr int kMaxProcessesScanned = 8192;
constexpr int kMaxFdsPerProcess = 8192;

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<Pressure> ReadPressure(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Pressure p;
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    double a10 = 0, a60 = 0, a300 = 0;
    if (std::sscanf(line.c_str(), "some avg10=%lf avg60=%lf avg300=%lf", &a10, &a60, &a300) == 3) {
      p.some_avg10 = a10, p.some_avg60 = a60, p.some_avg300 = a300;
      any = true;
    } else if (std::sscanf(line.c_str(), "full avg10=%lf avg60=%lf avg300=%lf", &a10, &a60,
                           &a300) == 3) {
      p.full_avg10 = a10, p.full_avg60 = a60, p.full_avg300 = a300;
    }
  }
  if (!any) return std::nullopt;
  return p;
}

void ReadMemory(const std::string& root, Indicators* out) {
  std::ifstream in(root + "/meminfo");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemTotal:") out->mem_total_kb = value;
    if (key == "MemAvailable:") out->mem_available_kb = value;
    if (key == "SwapTotal:") out->swap_total_kb = value;
    if (key == "SwapFree:") out->swap_free_kb = value;
  }
  std::ifstream vm(root + "/vmstat");
  while (vm >> key >> value) {
    if (key == "pswpin") out->swap_in_pages = value;
    if (key == "pswpout") out->swap_out_pages = value;
  }
}

const char* TcpStateName(int state) {
  static const char* kNames[] = {"UNKNOWN",    "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
                                 "FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
                                 "CLOSE_WAIT", "LAST_ACK",    "LISTEN",    "CLOSING"};
  return state >= 1 && state <= 11 ? kNames[state] : kNames[0];
}

// Parses /proc/net/tcp or tcp6; collects states, CLOSE_WAIT inodes and the
// local ports of connected sockets.
void ReadTcpTable(const std::string& path, Indicators* out, std::set<uint64_t>* close_wait_inodes,
                  std::set<int>* local_ports) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state_hex, queues, timer, retransmits, uid, timeout;
    uint64_t inode = 0;
    if (!(fields >> slot >> local >> remote >> state_hex >> queues >> timer >> retransmits >> uid >>
          timeout >> inode)) {
      continue;
    }
    int state = static_cast<int>(std::strtol(state_hex.c_str(), nullptr, 16));
    out->tcp_states[TcpStateName(state)]++;
    if (state == 8) close_wait_inodes->insert(inode);
    if (state != 10) {  // every socket but a listener holds a local port of a connection
      size_t colon = local.rfind(':');
      if (colon != std::string::npos) {
        local_ports->insert(static_cast<int>(std::strtol(local.c_str() + colon + 1, nullptr, 16)));
      }
    }
  }
}

void FindCloseWaitOwners(const std::string& root, const std::set<uint64_t>& inodes,
                         Indicators* out) {
  DIR* proc = ::opendir(root.c_str());
  if (proc == nullptr) return;
  int scanned = 0;
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    if (++scanned > kMaxProcessesScanned) break;
    std::string pid_dir = root + "/" + entry->d_name;
    DIR* fds = ::opendir((pid_dir + "/fd").c_str());
    if (fds == nullptr) continue;  // not ours to read
    int count = 0, seen = 0;
    while (dirent* fd = ::readdir(fds)) {
      if (fd->d_name[0] == '.' || ++seen > kMaxFdsPerProcess) continue;
      char target[64];
      std::string link = pid_dir + "/fd/" + fd->d_name;
      ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      unsigned long long inode = 0;
      if (std::sscanf(target, "socket:[%llu]", &inode) == 1 && inodes.count(inode) > 0) ++count;
    }
    ::closedir(fds);
    if (count > 0) {
      std::string comm = ReadSmallFile(pid_dir + "/comm");
      if (!comm.empty() && comm.back() == '\n') comm.pop_back();
      out->close_wait_owners.push_back({std::atoi(entry->d_name), comm, count});
    }
  }
  ::closedir(proc);
}

void ReadStat(const std::string& root, Indicators* out) {
  std::istringstream in(ReadSmallFile(root + "/stat"));
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long value = 0;
    if (line.compare(0, 3, "cpu") == 0 && line.size() > 3 && line[3] >= '0' && line[3] <= '9') {
      ++out->cpus;
    } else if (std::sscanf(line.c_str(), "processes %llu", &value) == 1) {
      out->forks = value;
    } else if (std::sscanf(line.c_str(), "procs_running %llu", &value) == 1) {
      out->procs_running = static_cast<int>(value);
    }
  }
}

// systemd-logind keeps a file per session in /run/systemd/sessions, named
// by its ID: numbers for logins ("42"), "c" and a number for sessions
// opened otherwise ("c3"), which count as well.
void ReadLogind(const std::string& run_root, Indicators* out) {
  DIR* dir = ::opendir((run_root + "/systemd/sessions").c_str());
  if (dir == nullptr) return;
  int sessions = 0;
  uint64_t last = 0;
  while (dirent* entry = ::readdir(dir)) {
    const char* name = entry->d_name;
    if (name[0] == 'c') ++name;
    char* end = nullptr;
    unsigned long long id = std::strtoull(name, &end, 10);
    if (end == name || *end != '\0') continue;  // ".", "..", "42.ref"
    ++sessions;
    last = std::max<uint64_t>(last, id);
  }
  ::closedir(dir);
  out->logind_sessions = sessions;
  out->logind_last_id = last;
}

}  // namespace

Indicators ReadIndicators(const std::string& root, const std::string& run_root) {
  Indicators out;
  std::istringstream(ReadSmallFile(root + "/loadavg")) >> out.load1 >> out.load5 >> out.load15;
  ReadStat(root, &out);
  ReadLogind(run_root, &out);
  out.cpu = ReadPressure(root + "/pressure/cpu");
  out.memory = ReadPressure(root + "/pressure/memory");
  out.io = ReadPressure(root + "/pressure/io");
  ReadMemory(root, &out);

  std::set<uint64_t> close_wait_inodes;
  std::set<int> local_ports;
  ReadTcpTable(root + "/net/tcp", &out, &close_wait_inodes, &local_ports);
  ReadTcpTable(root + "/net/tcp6", &out, &close_wait_inodes, &local_ports);
  out.close_wait = out.tcp_states.count("CLOSE_WAIT") ? out.tcp_states["CLOSE_WAIT"] : 0;
  out.time_wait = out.tcp_states.count("TIME_WAIT") ? out.tcp_states["TIME_WAIT"] : 0;
  if (!close_wait_inodes.empty()) FindCloseWaitOwners(root, close_wait_inodes, &out);

  std::istringstream(ReadSmallFile(root + "/sys/net/ipv4/ip_local_port_range")) >>
      out.ephemeral_low >> out.ephemeral_high;
  for (int port : local_ports) {
    if (port >= out.ephemeral_low && port <= out.ephemeral_high) ++out.ephemeral_in_use;
  }
  return out;
}

nlohmann::json ToJson(const Indicators& in) {
  auto pressure = [](const std::optional<Pressure>& p) -> nlohmann::json {
    if (!p) return nullptr;
    nlohmann::json j = {{"some_avg10", p->some_avg10},
                        {"some_avg60", p->some_avg60},
                        {"some_avg300", p->some_avg300}};
    if (p->full_avg10) {
      j["full_avg10"] = *p->full_avg10;
      j["full_avg60"] = *p->full_avg60;
      j["full_avg300"] = *p->full_avg300;
    }
    return j;
  };
  nlohmann::json owners = nlohmann::json::array();
  for (const SocketOwner& o : in.close_wait_owners) {
    owners.push_back({{"pid", o.pid}, {"command", o.command}, {"sockets", o.sockets}});
  }
  nlohmann::json j = {
      {"load", {in.load1, in.load5, in.load15}},
      {"cpus", in.cpus},
      {"procs_running", in.procs_running},
      {"forks", in.forks},
      {"pressure",
       {{"cpu", pressure(in.cpu)}, {"memory", pressure(in.memory)}, {"io", pressure(in.io)}}},
      {"memory",
       {{"total_kb", in.mem_total_kb},
        {"available_kb", in.mem_available_kb},
        {"swap_total_kb", in.swap_total_kb},
        {"swap_free_kb", in.swap_free_kb},
        {"swap_in_pages", in.swap_in_pages},
        {"swap_out_pages", in.swap_out_pages}}},
      {"tcp",
       {{"states", in.tcp_states},
        {"close_wait", in.close_wait},
        {"time_wait", in.time_wait},
        {"close_wait_owners", owners}}},
      {"ephemeral_ports",
       {{"low", in.ephemeral_low},
        {"high", in.ephemeral_high},
        {"in_use", in.ephemeral_in_use},
        {"size", in.ephemeral_high - in.ephemeral_low + 1}}},
  };
  if (in.logind_sessions) {
    j["logind"] = {{"sessions", *in.logind_sessions}, {"last_id", *in.logind_last_id}};
  }
  if (in.agent_sessions) j["agent_sessions"] = *in.agent_sessions;
  return j;
}

namespace {

// Reads `pointer` of `j` into `out` when it is there; a value of the wrong
// type is an error naming it.
template <typename T>
base::Status Field(const nlohmann::json& j, const char* pointer, T* out) {
  const nlohmann::json::json_pointer at(pointer);
  if (!j.contains(at) || j.at(at).is_null()) return base::Status::Ok();
  try {
    *out = j.at(at).get<T>();
  } catch (const nlohmann::json::exception&) {
    return base::Status::Invalid(
        fmt::format("agent indicators: {} has the wrong type: {}", pointer, j.at(at).dump()));
  }
  return base::Status::Ok();
}

template <typename T>
base::Status Field(const nlohmann::json& j, const char* pointer, std::optional<T>* out) {
  if (!j.contains(nlohmann::json::json_pointer(pointer))) return base::Status::Ok();
  T value{};
  SB_RETURN_IF_ERROR(Field(j, pointer, &value));
  *out = value;
  return base::Status::Ok();
}

base::Status PressureField(const nlohmann::json& j, const std::string& kind,
                           std::optional<Pressure>* out) {
  const std::string base = "/pressure/" + kind;
  if (!j.contains(nlohmann::json::json_pointer(base)) ||
      j.at(nlohmann::json::json_pointer(base)).is_null()) {
    return base::Status::Ok();
  }
  Pressure p;
  SB_RETURN_IF_ERROR(Field(j, (base + "/some_avg10").c_str(), &p.some_avg10));
  SB_RETURN_IF_ERROR(Field(j, (base + "/some_avg60").c_str(), &p.some_avg60));
  SB_RETURN_IF_ERROR(Field(j, (base + "/some_avg300").c_str(), &p.some_avg300));
  SB_RETURN_IF_ERROR(Field(j, (base + "/full_avg10").c_str(), &p.full_avg10));
  SB_RETURN_IF_ERROR(Field(j, (base + "/full_avg60").c_str(), &p.full_avg60));
  SB_RETURN_IF_ERROR(Field(j, (base + "/full_avg300").c_str(), &p.full_avg300));
  *out = p;
  return base::Status::Ok();
}

}  // namespace

base::Result<Indicators> IndicatorsFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return base::Status::Invalid("agent indicators: not a JSON object");
  Indicators in;
  SB_RETURN_IF_ERROR(Field(j, "/load/0", &in.load1));
  SB_RETURN_IF_ERROR(Field(j, "/load/1", &in.load5));
  SB_RETURN_IF_ERROR(Field(j, "/load/2", &in.load15));
  SB_RETURN_IF_ERROR(Field(j, "/cpus", &in.cpus));
  SB_RETURN_IF_ERROR(Field(j, "/procs_running", &in.procs_running));
  SB_RETURN_IF_ERROR(Field(j, "/forks", &in.forks));
  SB_RETURN_IF_ERROR(PressureField(j, "cpu", &in.cpu));
  SB_RETURN_IF_ERROR(PressureField(j, "memory", &in.memory));
  SB_RETURN_IF_ERROR(PressureField(j, "io", &in.io));
  SB_RETURN_IF_ERROR(Field(j, "/memory/total_kb", &in.mem_total_kb));
  SB_RETURN_IF_ERROR(Field(j, "/memory/available_kb", &in.mem_available_kb));
  SB_RETURN_IF_ERROR(Field(j, "/memory/swap_total_kb", &in.swap_total_kb));
  SB_RETURN_IF_ERROR(Field(j, "/memory/swap_free_kb", &in.swap_free_kb));
  SB_RETURN_IF_ERROR(Field(j, "/memory/swap_in_pages", &in.swap_in_pages));
  SB_RETURN_IF_ERROR(Field(j, "/memory/swap_out_pages", &in.swap_out_pages));
  SB_RETURN_IF_ERROR(Field(j, "/tcp/states", &in.tcp_states));
  SB_RETURN_IF_ERROR(Field(j, "/tcp/close_wait", &in.close_wait));
  SB_RETURN_IF_ERROR(Field(j, "/tcp/time_wait", &in.time_wait));
  const nlohmann::json::json_pointer owners("/tcp/close_wait_owners");
  if (j.contains(owners) && j.at(owners).is_array()) {
    for (const nlohmann::json& o : j.at(owners)) {
      SocketOwner owner;
      SB_RETURN_IF_ERROR(Field(o, "/pid", &owner.pid));
      SB_RETURN_IF_ERROR(Field(o, "/command", &owner.command));
      SB_RETURN_IF_ERROR(Field(o, "/sockets", &owner.sockets));
      in.close_wait_owners.push_back(owner);
    }
  }
  SB_RETURN_IF_ERROR(Field(j, "/ephemeral_ports/low", &in.ephemeral_low));
  SB_RETURN_IF_ERROR(Field(j, "/ephemeral_ports/high", &in.ephemeral_high));
  SB_RETURN_IF_ERROR(Field(j, "/ephemeral_ports/in_use", &in.ephemeral_in_use));
  SB_RETURN_IF_ERROR(Field(j, "/logind/sessions", &in.logind_sessions));
  SB_RETURN_IF_ERROR(Field(j, "/logind/last_id", &in.logind_last_id));
  SB_RETURN_IF_ERROR(Field(j, "/agent_sessions", &in.agent_sessions));
  return in;
}

}  // namespace sb::host
