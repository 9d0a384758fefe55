// Powering a standby on and off, whatever does it: a BMC over IPMI, a
// Wake-on-LAN packet, or a user's command. The PowerDriver seam is what the
// drill and `standbyctl power` use; MakePowerDriver picks the configured one.
//
// Wake-on-LAN can only power on and cannot report state: its status comes
// from the host's agent (answering means on). Off for WoL goes through the
// agent's Shutdown (see confirmed_off.h). Drivers are used from one thread.

#ifndef STANDBY_POWER_POWER_DRIVER_H_
#define STANDBY_POWER_POWER_DRIVER_H_

#include <memory>
#include <string>

#include "agent/base/status.h"
#include "standby/config/config.h"

namespace sb::power {

enum class PowerState { kOn, kOff };

std::string_view PowerStateName(PowerState state);

struct PowerReading {
  PowerState state = PowerState::kOff;
  std::string how;  // how it was learned: "BMC chassis status (cipher suite 3)", ...
};

// The standby's agent, as far as power is concerned. The controller's
// implementation talks to it over the channel (agent_link.h); tests fake it.
class HostAgent {
 public:
  virtual ~HostAgent() = default;
  // True when the agent completes a handshake within its timeout.
  virtual bool Reachable() = 0;
  // Asks the agent to run its shutdown command.
  virtual base::Status Shutdown() = 0;
};

class PowerDriver {
 public:
  virtual ~PowerDriver() = default;
  virtual std::string_view name() const = 0;
  virtual base::Result<PowerReading> Status() = 0;
  virtual base::Status On() = 0;
  // A hard power off; kFailedPrecondition when the driver has none (WoL).
  virtual base::Status Off() = 0;
  // An ACPI-style request to shut down; kFailedPrecondition when none.
  virtual base::Status SoftOff() = 0;
};

// The driver the standby's config names. Secrets are read here, so a missing
// or loose password file is reported before anything is sent. `agent` must
// outlive the driver (WoL asks it for state).
base::Result<std::unique_ptr<PowerDriver>> MakePowerDriver(const config::StandbyConfig& standby,
                                                           HostAgent* agent);

}  // namespace sb::power

#endif  // STANDBY_POWER_POWER_DRIVER_H_
