#include "standby/drill/checks.h"

#include <curl/curl.h>

#include <cctype>
#include <mutex>

#include <fmt/format.h>

#include "agent/base/units.h"

namespace sb::drill {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body->size() < HttpClient::kMaxBody) {
    body->append(data, std::min(n, HttpClient::kMaxBody - body->size()));
  }
  return n;
}

int64_t NowWallMs() { return store::Timestamp::Now().wall_ms; }

}  // namespace

HttpClient::HttpClient() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(curl_); }

base::Result<HttpResponse> HttpClient::Get(const std::string& url,
                                           std::chrono::milliseconds timeout) {
  if (curl_ == nullptr) return base::Status::Internal("libcurl could not be initialized");
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl_, CURLOPT_USERAGENT, "standbyctl/" STANDBY_VERSION);
  ++requests_;
  CURLcode rc = curl_easy_perform(curl_);
  long connects = 0;
  curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &connects);
  connections_ += connects;
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
    const std::string message = fmt::format("GET {}: {}", url, why);
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
      default:
        return base::Status::Unavailable(message);
    }
  }
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
  curl_off_t total_us = 0;
  curl_easy_getinfo(curl_, CURLINFO_TOTAL_TIME_T, &total_us);
  response.elapsed = std::chrono::microseconds(total_us);
  return response;
}

std::string_view CheckKindName(config::CheckKind kind) {
  return kind == config::CheckKind::kHttp ? "http" : "command";
}

bool PermanentHttpStatus(long status) {
  return status >= 400 && status < 500 && status != 408 && status != 429;
}

namespace {

bool PermanentError(const base::Status& s) {
  return s.code() == base::Code::kInvalidArgument || s.code() == base::Code::kPermissionDenied ||
         s.code() == base::Code::kNotFound;
}

}  // namespace

CheckRun RunSmokeCheck(const config::SmokeCheck& check, AgentSession* agent) {
  CheckRun run;
  store::CheckResultRecord& result = run.result;
  result.name = check.name;
  result.kind = std::string(CheckKindName(check.kind));
  result.outcome = store::CheckOutcome::kFailed;
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](store::CheckOutcome outcome, std::string detail, bool permanent = false) {
    result.outcome = outcome;
    result.detail = std::move(detail);
    if (permanent) result.detail += "; trying again cannot fix this";
    result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    result.at_wall_ms = NowWallMs();
    run.permanent = permanent;
    return run;
  };
  if (check.kind == config::CheckKind::kHttp) {
    HttpClient http;
    base::Result<HttpResponse> r = http.Get(check.url, check.timeout);
    if (!r.ok()) {
      return finish(store::CheckOutcome::kNotRun, r.status().message(), PermanentError(r.status()));
    }
    if (r->status != check.expect_status) {
      return finish(
          store::CheckOutcome::kFailed,
          fmt::format("GET {}: status {}, expected {}", check.url, r->status, check.expect_status),
          PermanentHttpStatus(r->status));
    }
    if (!check.body_contains.empty() && r->body.find(check.body_contains) == std::string::npos) {
      return finish(store::CheckOutcome::kFailed,
                    fmt::format("GET {}: status {} but the body does not contain \"{}\"", check.url,
                                r->status, check.body_contains));
    }
    return finish(store::CheckOutcome::kPassed,
                  fmt::format("GET {}: status {}{}", check.url, r->status,
                              check.body_contains.empty() ? "" : ", body as expected"));
  }
  if (agent == nullptr) {
    return finish(store::CheckOutcome::kNotRun, "no connection to the standby's agent");
  }
  base::Result<nlohmann::json> r = agent->Call(proto::type::kRunCommand, {{"name", check.command}});
  if (!r.ok()) {
    return finish(store::CheckOutcome::kNotRun,
                  fmt::format("command {} could not run: {}", check.command, r.status().message()),
                  PermanentError(r.status()));
  }
  const int exit_code = r->value("exit_code", -1);
  const bool timed_out = r->value("timed_out", false);
  std::string err = r->value("stderr", "");
  if (err.size() > 200) err = err.substr(0, 200) + "...";
  while (!err.empty() && std::isspace(static_cast<unsigned char>(err.back()))) err.pop_back();
  if (timed_out) {
    return finish(store::CheckOutcome::kFailed,
                  fmt::format("command {} timed out on the standby", check.command));
  }
  if (exit_code != 0) {
    return finish(store::CheckOutcome::kFailed,
                  fmt::format("command {} exited {}{}{}", check.command, exit_code,
                              err.empty() ? "" : ": ", err));
  }
  return finish(store::CheckOutcome::kPassed, fmt::format("command {} exited 0", check.command));
}

}  // namespace sb::drill
