#include "standby/drill/findings.h"

#include <algorithm>

#include <fmt/format.h>

namespace sb::drill {
namespace {

using host::Indicators;
using host::Pressure;

// The largest of a pressure over the readings there are.
struct Peak {
  double some = 0;
  std::optional<double> full;
  bool any = false;
};

Peak PeakOf(const std::optional<Pressure>& a, const std::optional<Pressure>& b) {
  Peak p;
  for (const std::optional<Pressure>* x : {&a, &b}) {
    if (!x->has_value()) continue;
    p.any = true;
    p.some = std::max(p.some, (*x)->some_avg10);
    if ((*x)->full_avg10) p.full = std::max(p.full.value_or(0), *(*x)->full_avg10);
  }
  return p;
}

std::string PressureText(const char* what, const Peak& p) {
  std::string s = fmt::format("{} pressure: some avg10 {:.1f}%", what, p.some);
  if (p.full) s += fmt::format(", full avg10 {:.1f}%", *p.full);
  return s;
}

class Reader {
 public:
  Reader(const HostWindow& w, const FindingRules& rules) : w_(w), rules_(rules) {}

  std::vector<Finding> Run() {
    if (!w_.before && !w_.after) {
      Add("unread",
          fmt::format("indicators not read: {}", w_.unread.empty() ? "no reading" : w_.unread));
      return std::move(out_);
    }
    const Indicators& last = w_.after ? *w_.after : *w_.before;
    const std::optional<Pressure> none;
    auto pick = [&](std::optional<Pressure> Indicators::*field) {
      return PeakOf(w_.before ? (*w_.before).*field : none, w_.after ? (*w_.after).*field : none);
    };
    Pressures(pick(&Indicators::memory), pick(&Indicators::cpu), pick(&Indicators::io));
    RunQueue(last);
    Sockets(last);
    if (w_.before && w_.after && w_.seconds >= rules_.min_window_s) {
      Rates(*w_.before, *w_.after);
    }
    if (!w_.unread.empty()) Add("unread", "a reading is missing: " + w_.unread);
    return std::move(out_);
  }

 private:
  void Add(const char* kind, std::string what) {
    out_.push_back({w_.host, kind, std::move(what), Bearing::kContext});
  }

  void Pressures(const Peak& memory, const Peak& cpu, const Peak& io) {
    if (memory.any &&
        (memory.some >= rules_.memory_some || memory.full.value_or(0) >= rules_.memory_full)) {
      std::string s = PressureText("memory", memory);
      if (memory.full.value_or(0) >= rules_.memory_full) {
        s += fmt::format(" (at or past systemd-oomd's default limit of {:.0f}%)",
                         rules_.memory_full);
      }
      Add("memory-pressure", s);
    }
    if (cpu.any && cpu.some >= rules_.cpu_some) Add("cpu-pressure", PressureText("cpu", cpu));
    if (io.any && io.full.value_or(0) >= rules_.io_full) Add("io-pressure", PressureText("io", io));
  }

  void RunQueue(const Indicators& in) {
    if (in.cpus > 0 && in.load1 > rules_.run_queue * in.cpus) {
      Add("run-queue", fmt::format("load {:.2f} on {} CPUs ({} running now)", in.load1, in.cpus,
                                   in.procs_running));
    }
  }

  void Sockets(const Indicators& in) {
    int named = 0;
    for (const host::SocketOwner& o : in.close_wait_owners) {
      if (o.sockets < rules_.close_wait) continue;
      named += o.sockets;
      Add("close-wait",
          fmt::format("pid {} ({}) holds {} sockets in CLOSE_WAIT: it does not close what its "
                      "peers closed",
                      o.pid, o.command, o.sockets));
    }
    if (named == 0 && in.close_wait >= rules_.close_wait) {
      Add("close-wait",
          fmt::format("{} sockets in CLOSE_WAIT (their owners could not be read)", in.close_wait));
    }
    const int size = in.ephemeral_high - in.ephemeral_low + 1;
    if (size > 1 && in.ephemeral_in_use >= rules_.ephemeral_used * size) {
      Add("ephemeral-ports",
          fmt::format("{} of {} ephemeral ports in use ({:.0f}%): new outgoing connections "
                      "will fail",
                      in.ephemeral_in_use, size, 100.0 * in.ephemeral_in_use / size));
    }
  }

  void Rates(const Indicators& a, const Indicators& b) {
    const double s = w_.seconds;
    if (b.swap_in_pages >= a.swap_in_pages &&
        b.swap_in_pages - a.swap_in_pages >= rules_.swap_in_pages) {
      Add("swap-in",
          fmt::format("{} pages swapped in over {:.1f} s", b.swap_in_pages - a.swap_in_pages, s));
    }
    const double forks = b.forks >= a.forks ? static_cast<double>(b.forks - a.forks) : 0;
    if (forks / s >= rules_.forks_per_s) {
      Add("fork-rate", fmt::format("{:.0f} processes started in {:.1f} s ({:.0f} a second)", forks,
                                   s, forks / s));
    }
    Sessions("agent", a.agent_sessions, b.agent_sessions);
    Sessions("login (systemd-logind)", a.logind_last_id, b.logind_last_id);
  }

  void Sessions(const char* what, const std::optional<uint64_t>& a,
                const std::optional<uint64_t>& b) {
    if (!a || !b || *b < *a) return;
    const uint64_t n = *b - *a;
    const double per_min = static_cast<double>(n) * 60.0 / w_.seconds;
    if (n >= rules_.min_sessions && per_min >= rules_.sessions_per_min) {
      Add("session-rate", fmt::format("{} new {} sessions in {:.1f} s ({:.0f} a minute): a "
                                      "session storm",
                                      n, what, w_.seconds, per_min));
    }
  }

  const HostWindow& w_;
  const FindingRules& rules_;
  std::vector<Finding> out_;
};

}  // namespace

std::string_view BearingName(Bearing b) {
  switch (b) {
    case Bearing::kSupports:
      return "supports";
    case Bearing::kContradicts:
      return "contradicts";
    case Bearing::kContext:
      return "context";
  }
  return "context";
}

FindingRules StopRules() {
  FindingRules r;
  r.memory_some = 25;
  r.memory_full = 10;
  r.cpu_some = 80;
  r.io_full = 40;
  r.run_queue = 4;
  return r;
}

std::optional<Finding> StressStop(const std::string& host, const host::Indicators& now) {
  HostWindow w;
  w.host = host;
  w.after = now;
  for (Finding& f : ReadFindings(w, StopRules())) {
    if (f.kind == "memory-pressure" || f.kind == "cpu-pressure" || f.kind == "io-pressure" ||
        f.kind == "run-queue") {
      return std::move(f);
    }
  }
  return std::nullopt;
}

std::vector<Finding> ReadFindings(const HostWindow& window, const FindingRules& rules) {
  return Reader(window, rules).Run();
}

void Weigh(Verdict verdict, std::vector<Finding>* findings) {
  for (Finding& f : *findings) {
    if (f.kind == "unread") {
      f.bearing = Bearing::kContext;
      continue;
    }
    switch (verdict) {
      case Verdict::kStandbySlower:
        f.bearing = f.host == "standby" ? Bearing::kSupports : Bearing::kContradicts;
        break;
      case Verdict::kPrimaryDegraded:
        f.bearing = f.host == "primary" ? Bearing::kSupports : Bearing::kContradicts;
        break;
      case Verdict::kEquivalent:
        f.bearing = Bearing::kContradicts;
        break;
      case Verdict::kInconclusive:
        f.bearing = Bearing::kContext;
        break;
    }
  }
}

bool AnyOn(const std::vector<Finding>& findings, std::string_view host) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.host == host && f.kind != "unread"; });
}

}  // namespace sb::drill
