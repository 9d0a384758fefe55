#include "standby/power/power_driver.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/subprocess.h"
#include "agent/net/tls_stream.h"
#include "standby/power/ipmi_client.h"
#include "standby/power/redfish_client.h"

namespace sb::power {
namespace {

using base::Result;
using base::Status;

class IpmiDriver final : public PowerDriver {
 public:
  explicit IpmiDriver(IpmiTarget target) : target_(std::move(target)) {}
  std::string_view name() const override { return "ipmi"; }

  Result<PowerReading> Status() override {
    Result<ChassisStatus> s = GetChassisStatus(target_);
    if (!s.ok()) return s.status();
    return PowerReading{s->power_on ? PowerState::kOn : PowerState::kOff,
                        fmt::format("BMC {} chassis status (cipher suite {})",
                                    target_.bmc.ToString(), s->cipher_suite)};
  }
  base::Status On() override { return ChassisControl(target_, ChassisAction::kPowerOn); }
  base::Status Off() override { return ChassisControl(target_, ChassisAction::kPowerOff); }
  base::Status SoftOff() override { return ChassisControl(target_, ChassisAction::kSoftOff); }

 private:
  IpmiTarget target_;
};

class RedfishDriver final : public PowerDriver {
 public:
  explicit RedfishDriver(RedfishTarget target) : target_(std::move(target)) {}
  std::string_view name() const override { return "redfish"; }

  // Off only when the BMC says Off: PoweringOff is still on.
  Result<PowerReading> Status() override {
    Result<RedfishPowerState> s = GetRedfishPowerState(target_);
    if (!s.ok()) return s.status();
    return PowerReading{s->state == "Off" ? PowerState::kOff : PowerState::kOn,
                        fmt::format("BMC {} Redfish {} PowerState {}",
                                    target_.config.bmc.ToString(), s->system, s->state)};
  }
  base::Status On() override { return Reset(RedfishReset::kOn); }
  base::Status Off() override { return Reset(RedfishReset::kForceOff); }
  base::Status SoftOff() override { return Reset(RedfishReset::kGracefulShutdown); }

 private:
  base::Status Reset(RedfishReset reset) {
    Result<std::string> used = RedfishResetSystem(target_, reset);
    if (!used.ok()) return used.status();
    spdlog::info("BMC {} (Redfish): ResetType {}", target_.config.bmc.ToString(), *used);
    return base::Status::Ok();
  }

  RedfishTarget target_;
};

// 6 x 0xFF, the MAC 16 times, and the optional 6-byte SecureOn password.
std::string MagicPacket(const std::array<uint8_t, 6>& mac, const std::string& secureon) {
  std::string packet(6, static_cast<char>(0xff));
  for (int i = 0; i < 16; ++i) packet.append(reinterpret_cast<const char*>(mac.data()), 6);
  packet += secureon;
  return packet;
}

// True when something accepts a TCP connection at `ep` within two seconds.
bool TcpAnswers(const base::Endpoint& ep) {
  base::Result<int> fd = net::ConnectTcp(ep, net::After(std::chrono::seconds(2)));
  if (!fd.ok()) return false;
  ::close(*fd);
  return true;
}

class WolDriver final : public PowerDriver {
 public:
  WolDriver(config::WolPower wol, std::string secureon, HostAgent* agent)
      : wol_(std::move(wol)), secureon_(std::move(secureon)), agent_(agent) {}
  std::string_view name() const override { return "wol"; }

  Result<PowerReading> Status() override {
    // WoL has no back channel: the agent answering, or the configured TCP
    // port accepting, are the only signs of life.
    if (agent_->Reachable()) return PowerReading{PowerState::kOn, "its agent answered"};
    if (!wol_.probe) return PowerReading{PowerState::kOff, "its agent did not answer"};
    const std::string where = wol_.probe->ToString();
    if (TcpAnswers(*wol_.probe)) {
      return PowerReading{PowerState::kOn,
                          fmt::format("its agent did not answer, but TCP {} did", where)};
    }
    return PowerReading{PowerState::kOff,
                        fmt::format("neither its agent nor TCP {} answered", where)};
  }

  base::Status On() override {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::FromErrno("Wake-on-LAN socket", errno);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    if (!wol_.interface.empty() &&
        ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, wol_.interface.c_str(),
                     static_cast<socklen_t>(wol_.interface.size())) != 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(fmt::format("Wake-on-LAN: bind to interface {}", wol_.interface),
                               err);
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(wol_.port);
    ::inet_pton(AF_INET, wol_.broadcast.c_str(), &to.sin_addr);
    const std::string packet = MagicPacket(wol_.mac, secureon_);
    for (int i = 0; i < wol_.packets; ++i) {
      if (::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof to) < 0) {
        int err = errno;
        ::close(fd);
        return Status::FromErrno(fmt::format("Wake-on-LAN to {}:{}", wol_.broadcast, wol_.port),
                                 err);
      }
      if (i + 1 < wol_.packets) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::close(fd);
    spdlog::info("sent {} Wake-on-LAN packets to {}:{}", wol_.packets, wol_.broadcast, wol_.port);
    return Status::Ok();
  }

  base::Status Off() override {
    return Status::FailedPrecondition(
        "Wake-on-LAN cannot power a host off; it is shut down through its agent");
  }
  base::Status SoftOff() override { return agent_->Shutdown(); }

 private:
  config::WolPower wol_;
  std::string secureon_;
  HostAgent* agent_;
};

// Exit 0 means done. `status` must print "on" or "off" as its first word.
class CommandDriver final : public PowerDriver {
 public:
  explicit CommandDriver(config::CommandPower command) : command_(std::move(command)) {}
  std::string_view name() const override { return "command"; }

  Result<PowerReading> Status() override {
    Result<base::ProcessResult> r = Run(command_.status, "status");
    if (!r.ok()) return r.status();
    std::string word = r->out.substr(0, r->out.find_first_of(" \t\r\n"));
    if (word != "on" && word != "off") {
      return Status::Invalid(
          fmt::format("power status command printed \"{}\"; it must print \"on\" or \"off\" first",
                      r->out.substr(0, 80)));
    }
    return PowerReading{word == "on" ? PowerState::kOn : PowerState::kOff,
                        fmt::format("{} printed \"{}\"", command_.status[0], word)};
  }
  base::Status On() override { return Run(command_.on, "on").status(); }
  base::Status Off() override { return Run(command_.off, "off").status(); }
  base::Status SoftOff() override {
    if (command_.soft_off.empty()) {
      return Status::FailedPrecondition("no soft_off command is configured");
    }
    return Run(command_.soft_off, "soft_off").status();
  }

 private:
  Result<base::ProcessResult> Run(const std::vector<std::string>& argv, std::string_view what) {
    base::ProcessSpec spec;
    spec.argv = argv;
    spec.timeout = command_.timeout;
    spec.max_output_bytes = uint64_t{64} * 1024;
    Result<base::ProcessResult> r = base::RunProcess(spec);
    if (!r.ok()) return r.status().WithContext(fmt::format("power {} command", what));
    if (!r->success()) {
      std::string err = r->err.substr(0, 200);
      while (!err.empty() && err.back() == '\n') err.pop_back();
      return Status::Unavailable(fmt::format("power {} command {} failed ({}){}{}", what, argv[0],
                                             r->Describe(), err.empty() ? "" : ": ", err));
    }
    return r;
  }

  config::CommandPower command_;
};

}  // namespace

std::string_view PowerStateName(PowerState state) {
  return state == PowerState::kOn ? "on" : "off";
}

Result<std::unique_ptr<PowerDriver>> MakePowerDriver(const config::StandbyConfig& standby,
                                                     HostAgent* agent) {
  const config::PowerConfig& p = standby.power;
  switch (p.driver) {
    case config::PowerDriverKind::kIpmi: {
      Result<config::Secret> password = config::LoadSecret(p.ipmi.password);
      if (!password.ok()) return password.status();
      IpmiTarget t;
      t.bmc = p.ipmi.bmc;
      t.username = p.ipmi.username;
      t.password = std::move(*password);
      t.suite = p.ipmi.cipher_suite;
      t.timeout = p.ipmi.timeout;
      t.retries = p.ipmi.retries;
      t.min_interval = p.ipmi.min_interval;
      return std::unique_ptr<PowerDriver>(new IpmiDriver(std::move(t)));
    }
    case config::PowerDriverKind::kRedfish: {
      Result<config::Secret> password = config::LoadSecret(p.redfish.password);
      if (!password.ok()) return password.status();
      RedfishTarget t;
      t.config = p.redfish;
      t.password = std::move(*password);
      return std::unique_ptr<PowerDriver>(new RedfishDriver(std::move(t)));
    }
    case config::PowerDriverKind::kWol: {
      std::string secureon;
      if (p.wol.secureon) {
        Result<config::Secret> s = config::LoadSecret(*p.wol.secureon);
        if (!s.ok()) return s.status();
        if (s->reveal().size() != 6) {
          return Status::Invalid(
              fmt::format("SecureOn password from {} must be 6 bytes", p.wol.secureon->Describe()));
        }
        secureon = s->reveal();
      }
      return std::unique_ptr<PowerDriver>(new WolDriver(p.wol, secureon, agent));
    }
    case config::PowerDriverKind::kCommand:
      return std::unique_ptr<PowerDriver>(new CommandDriver(p.command));
  }
  return Status::Internal("unknown power driver");
}

}  // namespace sb::power
