// A Redfish client for a computer system's power, over HTTPS (DMTF DSP0266).
//
// Each operation reads the service root, logs in (a session from the
// service's SessionService, its X-Auth-Token on every request; HTTP basic
// authentication when the service has no sessions), finds the system (the
// configured id, or the only member of /Systems), does its work, and
// deletes the session on every path. A refused login (401, 403) fails at
// once and is never retried: retries lock BMC accounts. 503 and failed
// connections are retried `retries` times with backoff, honouring
// Retry-After. Reset actions use the ResetType values the BMC allows
// (ResetType@Redfish.AllowableValues, or its ActionInfo); a 202 Accepted
// is followed through its task monitor until the task ends. Redfish error
// bodies (@Message.ExtendedInfo) become the error's words.
//
// The password, the session token and the request that carries the
// password are wiped after use and never logged. With tls_verify = false
// every login warns.

#ifndef STANDBY_POWER_REDFISH_CLIENT_H_
#define STANDBY_POWER_REDFISH_CLIENT_H_

#include <string>

#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/config/secret.h"

namespace sb::power {

struct RedfishTarget {
  config::RedfishPower config;
  config::Secret password{""};
};

enum class RedfishReset { kOn, kForceOff, kGracefulShutdown };

struct RedfishPowerState {
  std::string state;   // the system's PowerState: On, Off, PoweringOn, PoweringOff, Paused
  std::string system;  // the system's path, "/redfish/v1/Systems/1"
};

base::Result<RedfishPowerState> GetRedfishPowerState(const RedfishTarget& target);
// Asks for `reset` with the ResetType the BMC allows for it; returns the
// ResetType used.
base::Result<std::string> RedfishResetSystem(const RedfishTarget& target, RedfishReset reset);

}  // namespace sb::power

#endif  // STANDBY_POWER_REDFISH_CLIENT_H_
