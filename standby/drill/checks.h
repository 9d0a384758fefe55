// Smoke checks: does the restored standby serve? Each check kind runs here
// and gives a CheckResultRecord; a check that could not run (no connection,
// a timeout, an agent that refused the command) is a failed check, never a
// pass. `http` uses libcurl; `command` runs an allow-listed command on the
// standby through its agent and passes on exit 0.
//
// HttpClient is also what the performance comparison times requests with:
// one per host, keeping its connection alive, and counting the connections it
// opened (the drill's footprint on the primary). One thread per object.
#ifndef STANDBY_DRILL_CHECKS_H_
#define STANDBY_DRILL_CHECKS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "agent/base/status.h"
#include "agent/client/agent_client.h"
#include "standby/config/config.h"
#include "standby/store/state_store.h"

typedef void CURL;

namespace sb::drill {

struct HttpResponse {
  long status = 0;
  std::string body;  // the first kMaxBody bytes
  std::chrono::microseconds elapsed{0};
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One GET. Errors (no connection, timeout, bad URL) name the URL and
  // libcurl's reason.
  base::Result<HttpResponse> Get(const std::string& url, std::chrono::milliseconds timeout);
  // Connections opened so far (a kept-alive connection counts once).
  int64_t connections() const { return connections_; }
  int64_t requests() const { return requests_; }

  static constexpr size_t kMaxBody = 1 << 20;

 private:
  CURL* curl_;
  int64_t connections_ = 0;
  int64_t requests_ = 0;
};

// Runs one smoke check. `agent` is the standby's agent (for command checks).
store::CheckResultRecord RunSmokeCheck(const config::SmokeCheck& check, client::AgentClient* agent);

std::string_view CheckKindName(config::CheckKind kind);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_CHECKS_H_
