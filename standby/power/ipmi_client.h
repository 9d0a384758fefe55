// An IPMI v2.0 (RMCP+) client for chassis power, over UDP.
//
// Each operation opens a session (Get Channel Authentication Capabilities,
// Open Session, RAKP 1-4) at the privilege it needs (USER to read the power
// state, OPERATOR to change it), sends its command, and always closes the
// session, on error paths too. Cipher suite 17 is tried first and suite 3
// used when the BMC lacks it, unless one is pinned. A message that gets no
// reply is sent again with backoff, `retries` more times at most: a lost
// handshake step is resent, not the whole handshake (which starts over
// once, only when a RAKP step got no reply at all, as a BMC may ignore a
// repeated one). A handshake that did not finish is abandoned so that it
// does not hold a session on the BMC. A wrong password fails at once:
// retrying a login only locks accounts.
//
// Replies are matched to what they answer: each handshake message has a tag
// of its own and replies must name our session, so a late reply to an
// earlier attempt is dropped. Dropped replies are counted by why, and named
// when a step gets none it can take. The password key and session keys are
// wiped when the session ends; authentication codes are compared in
// constant time.
//
// Per BMC, this process never has two sessions open at once and keeps a
// minimum interval between commands. Calls block; safe from several threads.

#ifndef STANDBY_POWER_IPMI_CLIENT_H_
#define STANDBY_POWER_IPMI_CLIENT_H_

#include <chrono>
#include <string>

#include "agent/base/endpoint.h"
#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/config/secret.h"

namespace sb::power {

enum class ChassisAction : uint8_t { kPowerOff = 0x00, kPowerOn = 0x01, kSoftOff = 0x05 };

struct ChassisStatus {
  bool power_on = false;
  int cipher_suite = 0;  // the suite the session used
};

struct IpmiTarget {
  base::Endpoint bmc;
  std::string username;
  config::Secret password{""};
  config::IpmiCipherSuite suite = config::IpmiCipherSuite::kAuto;
  std::chrono::milliseconds timeout{5'000};  // per attempt
  int retries = 3;
  std::chrono::milliseconds min_interval{1'000};
};

base::Result<ChassisStatus> GetChassisStatus(const IpmiTarget& target);
base::Status ChassisControl(const IpmiTarget& target, ChassisAction action);

}  // namespace sb::power

#endif  // STANDBY_POWER_IPMI_CLIENT_H_
