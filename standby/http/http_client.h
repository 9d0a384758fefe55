// HTTP(S) requests over libcurl, for whatever in the controller speaks HTTP:
// the smoke checks and the performance comparison (standby/drill/), the
// Redfish power driver (standby/power/).
//
// One HttpClient keeps its connections alive between requests and counts
// them. Certificates are verified against the request's ca_file or
// libcurl's default bundle, and optionally pinned to a public key; a
// request may turn verification off only by saying so (verify_tls).
// One thread per object.

#ifndef STANDBY_HTTP_HTTP_CLIENT_H_
#define STANDBY_HTTP_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/status.h"

typedef void CURL;

namespace sb::http {

// How long each step of a request took, from its start (libcurl's
// *_TIME_T): what a slow request is slow at.
struct HttpTimings {
  std::chrono::microseconds dns{0}, connect{0}, tls{0}, first_byte{0}, total{0};
};

struct HttpResponse {
  long status = 0;
  std::string body;        // the first HttpClient::kMaxBody bytes
  bool truncated = false;  // there was more
  std::chrono::microseconds elapsed{0};
  // The last response's headers (names as sent), and the timings.
  std::vector<std::pair<std::string, std::string>> headers;
  HttpTimings timings;

  // The value of the first header named `name` (case-insensitive): null
  // when there is none, or "" from Header.
  const std::string* FindHeader(std::string_view name) const;
  std::string Header(std::string_view name) const;
};

struct HttpRequest {
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool follow_redirects = false;
  // libcurl's CONNECT_TO ("name:port:address:port"): the URL's name is sent
  // (Host, SNI) and verified, the connection goes to the address.
  std::string connect_to;
  std::string ca_file, client_cert, client_key;
  // libcurl's PINNEDPUBLICKEY: "sha256//BASE64" of the server's public key,
  // checked on top of (or, without verify_tls, instead of) the chain.
  std::string pinned_public_key;
  // False accepts any certificate and name: only when a user says so.
  bool verify_tls = true;
  // HTTP basic authentication, when both are set.
  std::string username, password;
  std::chrono::milliseconds timeout{10'000};
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request. Errors name the method, the URL and libcurl's reason;
  // kInvalidArgument for a URL libcurl cannot use and kPermissionDenied for
  // a peer certificate it refuses, a pinned key that does not match or a
  // TLS version refused (all permanent), kTimeout or kUnavailable otherwise.
  base::Result<HttpResponse> Perform(const HttpRequest& request);
  base::Result<HttpResponse> Get(const std::string& url, std::chrono::milliseconds timeout);
  // Connections opened so far (a kept-alive connection counts once).
  int64_t connections() const { return connections_; }
  int64_t requests() const { return requests_; }

  static constexpr size_t kMaxBody = 1 << 20;

 private:
  CURL* curl_;
  std::string default_ca_file_;  // libcurl's own, empty when it has none
  int64_t connections_ = 0;
  int64_t requests_ = 0;
};

}  // namespace sb::http

#endif  // STANDBY_HTTP_HTTP_CLIENT_H_
