#include "standby/drill/checks.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <variant>

#include <fmt/format.h>
#include <re2/re2.h>

#include "agent/base/units.h"
#include "agent/sync/manifest.h"
#include "standby/drill/check_kinds.h"

namespace sb::drill {
namespace {}  // namespace

bool PermanentHttpStatus(long status) {
  return status >= 400 && status < 500 && status != 408 && status != 429;
}

std::string WithHost(const std::string& text, const std::string& host) {
  const size_t at = text.find(config::kHostPlaceholder);
  if (at == std::string::npos) return text;
  in6_addr v6{};
  const bool ipv6 = ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
  std::string out = text;
  out.replace(at, config::kHostPlaceholder.size(), ipv6 ? "[" + host + "]" : host);
  return out;
}

CheckTarget TargetFor(const config::Config& config, const config::StandbyConfig& standby) {
  CheckTarget t;
  t.host = standby.agent.host;
  if (config.primary) t.primary_host = config.primary->agent.host;
  t.restores = standby.restores;
  return t;
}

namespace internal {

CheckRecorder::CheckRecorder(const config::SmokeCheck& check)
    : start_(std::chrono::steady_clock::now()) {
  run_.result.name = check.name;
  run_.result.kind = std::string(config::CheckKindName(check.kind));
  run_.result.outcome = store::CheckOutcome::kFailed;
}

CheckRun CheckRecorder::Finish(store::CheckOutcome outcome, std::string detail, bool permanent) {
  run_.result.outcome = outcome;
  run_.result.detail = std::move(detail);
  if (permanent) run_.result.detail += "; trying again cannot fix this";
  run_.result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start_)
                                .count();
  run_.result.at_wall_ms = store::Timestamp::Now().wall_ms;
  run_.result.measured = measured_.dump();
  run_.permanent = permanent;
  run_.max_ttl = max_ttl_;
  run_.primary_connections = primary_connections_;
  run_.primary_requests = primary_requests_;
  return run_;
}

CheckRun CheckRecorder::Pass(std::string detail) {
  return Finish(store::CheckOutcome::kPassed, std::move(detail), false);
}

CheckRun CheckRecorder::Fail(std::string detail, bool permanent) {
  return Finish(store::CheckOutcome::kFailed, std::move(detail), permanent);
}

CheckRun CheckRecorder::NotRun(const base::Status& why) {
  return Finish(store::CheckOutcome::kNotRun, why.message(), PermanentError(why));
}

bool PermanentError(const base::Status& s) {
  return s.code() == base::Code::kInvalidArgument || s.code() == base::Code::kPermissionDenied ||
         s.code() == base::Code::kNotFound;
}

int64_t NowWallMs(const CheckTarget& target) {
  return target.now_wall_ms ? target.now_wall_ms() : store::Timestamp::Now().wall_ms;
}

namespace {

std::string Hex(std::string_view bytes) {
  sync::Sha256 hash;
  hash.Update(bytes.data(), bytes.size());
  return hash.HexDigest();
}

double Ms(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1000.0; }

nlohmann::json TimingsJson(const HttpTimings& t) {
  return {{"dns_ms", Ms(t.dns)},
          {"connect_ms", Ms(t.connect)},
          {"tls_ms", Ms(t.tls)},
          {"first_byte_ms", Ms(t.first_byte)},
          {"total_ms", Ms(t.total)}};
}

// The request for `host`: the URL with {host}; with host_name, the URL
// names host_name and the connection goes to `host`.
base::Result<HttpRequest> RequestFor(const config::SmokeCheck& check, const std::string& host) {
  const config::HttpCheck& h = check.http;
  HttpRequest r;
  r.url = WithHost(h.url, host);
  r.method = h.method;
  r.headers = h.headers;
  r.body = h.body;
  r.follow_redirects = h.follow_redirects;
  r.ca_file = h.ca_file;
  r.client_cert = h.client_cert;
  r.client_key = h.client_key;
  r.timeout = check.timeout;
  if (h.host_name.empty()) return r;
  CURLU* u = curl_url();
  auto free_url = [&] { curl_url_cleanup(u); };
  char* address = nullptr;
  char* port = nullptr;
  char* url = nullptr;
  if (curl_url_set(u, CURLUPART_URL, r.url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &address, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
      curl_url_set(u, CURLUPART_HOST, h.host_name.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
    curl_free(address);
    curl_free(port);
    free_url();
    return base::Status::Invalid(fmt::format("{}: not a URL libcurl can use", r.url));
  }
  r.connect_to = fmt::format("{}:{}:{}:{}", h.host_name, port, address, port);
  r.url = url;
  curl_free(address);
  curl_free(port);
  curl_free(url);
  free_url();
  return r;
}

std::string Described(const HttpRequest& r, const std::string& host, const std::string& name) {
  return name.empty() ? fmt::format("{} {}", r.method, r.url)
                      : fmt::format("{} {} on {}", r.method, r.url, host);
}

bool StatusValid(long status, const std::vector<config::StatusRange>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const config::StatusRange& r) {
    return status >= r.low && status <= r.high;
  });
}

std::string RangesText(const std::vector<config::StatusRange>& ranges) {
  std::string out;
  for (const config::StatusRange& r : ranges) {
    if (!out.empty()) out += ", ";
    out += r.low == r.high ? std::to_string(r.low) : fmt::format("{}-{}", r.low, r.high);
  }
  return out;
}

// Where two bodies first differ.
size_t FirstDifference(const std::string& a, const std::string& b) {
  auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<size_t>(ia - a.begin());
}

std::string Excerpt(const std::string& s, size_t at) {
  std::string out = s.substr(at, 24);
  for (char& c : out) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '.';
  }
  return "\"" + out + "\"";
}

}  // namespace

// Why the response is not what the check expects; empty when it is.
// `*permanent` says whether asking again cannot change that.
std::string ResponseProblem(const config::HttpCheck& h, const HttpResponse& r,
                            const std::string& what, bool* permanent) {
  *permanent = false;
  if (!StatusValid(r.status, h.valid_status)) {
    *permanent = PermanentHttpStatus(r.status);
    return fmt::format("{}: status {}, expected {}", what, r.status, RangesText(h.valid_status));
  }
  if (!h.body_contains.empty() && r.body.find(h.body_contains) == std::string::npos) {
    return fmt::format("{}: status {} but the body does not contain \"{}\"", what, r.status,
                       h.body_contains);
  }
  if (!h.body_regex.empty() && !RE2::PartialMatch(r.body, RE2(h.body_regex, RE2::Quiet))) {
    return fmt::format("{}: status {} but the body does not match /{}/", what, r.status,
                       h.body_regex);
  }
  if (!h.body_not_regex.empty() && RE2::PartialMatch(r.body, RE2(h.body_not_regex, RE2::Quiet))) {
    return fmt::format("{}: status {} but the body matches /{}/", what, r.status, h.body_not_regex);
  }
  for (const auto& [name, pattern] : h.header_regex) {
    const std::string* value = r.FindHeader(name);
    if (value == nullptr)
      return fmt::format("{}: status {} but no {} header", what, r.status, name);
    if (!RE2::PartialMatch(*value, RE2(pattern, RE2::Quiet))) {
      return fmt::format("{}: header {}: \"{}\" does not match /{}/", what, name,
                         value->substr(0, 200), pattern);
    }
  }
  return {};
}

// same_as_primary: the same request to the primary, and the two answers
// compared. Returns what to add to a pass, or the run that ends the check.
std::variant<std::string, CheckRun> CompareWithPrimary(const config::SmokeCheck& check,
                                                       const CheckTarget& target,
                                                       const HttpResponse& r,
                                                       const std::string& what, CheckRecorder& rec,
                                                       CheckRun* counts) {
  const config::HttpCheck& h = check.http;
  if (target.primary_host.empty()) {
    return rec.NotRun(base::Status::Invalid(
        "same_as_primary needs the primary's address: the config has no [primary]"));
  }
  if (target.primary_connections_left <= 0) {
    return rec.NotRun(base::Status::PermissionDenied(
        "same_as_primary: the drill's cap on connections to the primary (max_sessions) is "
        "used up"));
  }
  base::Result<HttpRequest> request = RequestFor(check, target.primary_host);
  if (!request.ok()) return rec.NotRun(request.status());
  HttpClient http;
  base::Result<HttpResponse> p = http.Perform(*request);
  counts->primary_connections += http.connections();
  counts->primary_requests += http.requests();
  if (!p.ok()) {
    return rec.NotRun(base::Status::Unavailable(
        fmt::format("the primary's copy to compare with: {}", p.status().message())));
  }
  rec.measured()["primary_status"] = p->status;
  rec.measured()["primary_body_sha256"] = Hex(p->body);
  std::string standby_body = r.body;
  std::string primary_body = p->body;
  if (!h.ignore_regex.empty()) {
    RE2 ignore(h.ignore_regex, RE2::Quiet);
    RE2::GlobalReplace(&standby_body, ignore, "");
    RE2::GlobalReplace(&primary_body, ignore, "");
  }
  if (p->status == r.status && standby_body == primary_body) {
    return fmt::format(", same as the primary's ({} bytes{})", standby_body.size(),
                       r.truncated || p->truncated ? ", the first 1 MiB compared" : "");
  }
  // The same status and another body: what was restored differs, and
  // waiting does not change it. Another status may be a service starting.
  const size_t at = FirstDifference(standby_body, primary_body);
  return rec.Fail(
      fmt::format("{}: differs from the primary's {}: status {} and {}; {} and {} bytes{}, first "
                  "difference at byte {} ({} here, {} there); sha256 {} and {}",
                  what, Described(*request, target.primary_host, h.host_name), r.status, p->status,
                  standby_body.size(), primary_body.size(),
                  h.ignore_regex.empty() ? "" : " after removing /" + h.ignore_regex + "/", at,
                  Excerpt(standby_body, at), Excerpt(primary_body, at), Hex(r.body).substr(0, 12),
                  Hex(p->body).substr(0, 12)),
      p->status == r.status);
}

CheckRun RunHttpCheck(const config::SmokeCheck& check, const CheckTarget& target) {
  CheckRecorder rec(check);
  const config::HttpCheck& h = check.http;
  base::Result<HttpRequest> request = RequestFor(check, target.host);
  if (!request.ok()) return rec.NotRun(request.status());
  const std::string what = Described(*request, target.host, h.host_name);
  HttpClient http;
  base::Result<HttpResponse> r = http.Perform(*request);
  if (!r.ok()) return rec.NotRun(r.status());
  rec.measured()["status"] = r->status;
  rec.measured()["timings"] = TimingsJson(r->timings);
  rec.measured()["body_bytes"] = r->body.size();
  rec.measured()["body_sha256"] = Hex(r->body);
  bool permanent = false;
  std::string problem = ResponseProblem(h, *r, what, &permanent);
  if (!problem.empty()) return rec.Fail(std::move(problem), permanent);
  std::string same;
  if (h.same_as_primary) {
    CheckRun counts;
    std::variant<std::string, CheckRun> compared =
        CompareWithPrimary(check, target, *r, what, rec, &counts);
    if (CheckRun* ended = std::get_if<CheckRun>(&compared)) {
      ended->primary_connections = counts.primary_connections;
      ended->primary_requests = counts.primary_requests;
      return std::move(*ended);
    }
    same = std::get<std::string>(compared);
    rec.set_primary_footprint(counts.primary_connections, counts.primary_requests);
  }
  const bool body_checked =
      !h.body_contains.empty() || !h.body_regex.empty() || !h.body_not_regex.empty();
  return rec.Pass(fmt::format(
      "{}: status {}{}{}{} in {:.0f} ms", what, r->status, body_checked ? ", body as expected" : "",
      h.header_regex.empty() ? "" : ", headers as expected", same, Ms(r->timings.total)));
}

}  // namespace internal

CheckRun RunSmokeCheck(const config::SmokeCheck& check, const CheckTarget& target,
                       AgentSession* agent) {
  using config::CheckKind;
  switch (check.kind) {
    case CheckKind::kHttp:
      return internal::RunHttpCheck(check, target);
    case CheckKind::kTcp:
      return internal::RunTcpCheck(check, target);
    case CheckKind::kTls:
      return internal::RunTlsCheck(check, target);
    case CheckKind::kDns:
      return internal::RunDnsCheck(check, target);
    case CheckKind::kCommand:
      return internal::RunCommandCheck(check, agent);
    case CheckKind::kFile:
      return internal::RunFileCheck(check, target, agent);
    case CheckKind::kCanary:
      return internal::RunCanaryCheck(check, target, agent);
  }
  return internal::CheckRecorder(check).NotRun(base::Status::Internal("unknown check kind"));
}

}  // namespace sb::drill
