#include "standby/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include <fmt/format.h>

namespace sb::http {
namespace {

struct Collected {
  std::string* body;
  bool truncated = false;
};

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* c = static_cast<Collected*>(user);
  const size_t n = size * count;
  if (c->body->size() < HttpClient::kMaxBody) {
    c->body->append(data, std::min(n, HttpClient::kMaxBody - c->body->size()));
  }
  if (c->body->size() == HttpClient::kMaxBody && n > 0) c->truncated = true;
  return n;
}

// Keeps the last response's headers: a new status line (after a redirect
// or a 100 Continue) starts over.
size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    headers->clear();
  } else if (size_t colon = line.find(':');
             colon != std::string_view::npos && headers->size() < 200) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return n;
}

std::chrono::microseconds Info(CURL* curl, CURLINFO what) {
  curl_off_t us = 0;
  curl_easy_getinfo(curl, what, &us);
  return std::chrono::microseconds(us);
}

struct CurlSlist {
  curl_slist* list = nullptr;
  ~CurlSlist() { curl_slist_free_all(list); }
};

}  // namespace

HttpClient::HttpClient() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  // The CA bundle libcurl was built with: a request without a ca_file goes
  // back to it (setting the option to null would disable it).
  char* ca = nullptr;
  if (curl_ != nullptr && curl_easy_getinfo(curl_, CURLINFO_CAINFO, &ca) == CURLE_OK &&
      ca != nullptr) {
    default_ca_file_ = ca;
  }
}

HttpClient::~HttpClient() { curl_easy_cleanup(curl_); }

const std::string* HttpResponse::FindHeader(std::string_view name) const {
  for (const auto& [n, value] : headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &value;
    }
  }
  return nullptr;
}

std::string HttpResponse::Header(std::string_view name) const {
  const std::string* value = FindHeader(name);
  return value != nullptr ? *value : std::string();
}

base::Result<HttpResponse> HttpClient::Get(const std::string& url,
                                           std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.url = url;
  request.timeout = timeout;
  return Perform(request);
}

base::Result<HttpResponse> HttpClient::Perform(const HttpRequest& r) {
  if (curl_ == nullptr) return base::Status::Internal("libcurl could not be initialized");
  HttpResponse response;
  Collected collected{&response.body};
  char error[CURL_ERROR_SIZE] = {};
  CurlSlist headers, connect_to;
  for (const auto& [name, value] : r.headers) {
    headers.list = curl_slist_append(headers.list, fmt::format("{}: {}", name, value).c_str());
  }
  if (!r.connect_to.empty()) connect_to.list = curl_slist_append(nullptr, r.connect_to.c_str());
  // The handle keeps its connections between requests; every option a
  // request may set is set each time, so none leaks into the next.
  curl_easy_setopt(curl_, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl_, CURLOPT_NOBODY, r.method == "HEAD" ? 1L : 0L);
  curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST,
                   r.method == "GET" || r.method == "HEAD" ? nullptr : r.method.c_str());
  if (!r.body.empty()) {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, r.body.data());
  }
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl_, CURLOPT_CONNECT_TO, connect_to.list);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, r.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl_, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  const std::string& ca_file = r.ca_file.empty() ? default_ca_file_ : r.ca_file;
  curl_easy_setopt(curl_, CURLOPT_CAINFO, ca_file.empty() ? nullptr : ca_file.c_str());
  curl_easy_setopt(curl_, CURLOPT_SSLCERT, r.client_cert.empty() ? nullptr : r.client_cert.c_str());
  curl_easy_setopt(curl_, CURLOPT_SSLKEY, r.client_key.empty() ? nullptr : r.client_key.c_str());
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
  curl_easy_setopt(curl_, CURLOPT_PINNEDPUBLICKEY,
                   r.pinned_public_key.empty() ? nullptr : r.pinned_public_key.c_str());
  const bool basic = !r.username.empty() && !r.password.empty();
  curl_easy_setopt(curl_, CURLOPT_HTTPAUTH, basic ? CURLAUTH_BASIC : CURLAUTH_NONE);
  curl_easy_setopt(curl_, CURLOPT_USERNAME, basic ? r.username.c_str() : nullptr);
  curl_easy_setopt(curl_, CURLOPT_PASSWORD, basic ? r.password.c_str() : nullptr);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &collected);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl_, CURLOPT_USERAGENT, "standbyctl/" STANDBY_VERSION);
  ++requests_;
  CURLcode rc = curl_easy_perform(curl_);
  long connects = 0;
  curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &connects);
  connections_ += connects;
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl_, CURLOPT_CONNECT_TO, nullptr);
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, nullptr);
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t{-1});
  curl_easy_setopt(curl_, CURLOPT_USERNAME, nullptr);
  curl_easy_setopt(curl_, CURLOPT_PASSWORD, nullptr);
  if (rc != CURLE_OK) {
    std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
    const std::string message = fmt::format("{} {}: {}", r.method, r.url, why);
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return base::Status::Timeout(message);
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
        return base::Status::Invalid(message);
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return base::Status::PermissionDenied(message);
      case CURLE_SSL_CONNECT_ERROR:
        // A refused protocol version is the server's setting, not a moment.
        if (why.find("version") != std::string::npos)
          return base::Status::PermissionDenied(message);
        return base::Status::Unavailable(message);
      default:
        return base::Status::Unavailable(message);
    }
  }
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
  response.elapsed = Info(curl_, CURLINFO_TOTAL_TIME_T);
  response.timings.dns = Info(curl_, CURLINFO_NAMELOOKUP_TIME_T);
  response.timings.connect = Info(curl_, CURLINFO_CONNECT_TIME_T);
  response.timings.tls = Info(curl_, CURLINFO_APPCONNECT_TIME_T);
  response.timings.first_byte = Info(curl_, CURLINFO_STARTTRANSFER_TIME_T);
  response.timings.total = response.elapsed;
  response.truncated = collected.truncated;
  return response;
}

}  // namespace sb::http
