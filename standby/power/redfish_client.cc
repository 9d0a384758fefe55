#include "standby/power/redfish_client.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "agent/base/quote.h"
#include "standby/http/http_client.h"

namespace sb::power {
namespace {

using base::Result;
using base::Status;
using nlohmann::json;

void Wipe(std::string* s) {
  OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

// "/redfish/v1/..." of a Location or @odata.id that may be a full URL.
std::string PathOf(std::string_view link) {
  if (link.starts_with("https://") || link.starts_with("http://")) {
    const size_t slash = link.find('/', link.find("//") + 2);
    return slash == std::string_view::npos ? "/" : std::string(link.substr(slash));
  }
  return std::string(link);
}

// The words of a Redfish error body: error.message and each
// @Message.ExtendedInfo's Message; or the start of a body that is not one.
std::string ErrorWords(const http::HttpResponse& r) {
  const json body = json::parse(r.body, nullptr, false);
  std::vector<std::string> words;
  auto add = [&words](const json& info) {
    if (!info.is_array()) return;
    for (const json& m : info) {
      if (m.is_object() && m.contains("Message") && m["Message"].is_string()) {
        words.push_back(m["Message"].get<std::string>());
      }
    }
  };
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    if (e.contains("message") && e["message"].is_string()) {
      words.push_back(e["message"].get<std::string>());
    }
    if (e.contains("@Message.ExtendedInfo")) add(e["@Message.ExtendedInfo"]);
  } else if (body.is_object() && body.contains("@Message.ExtendedInfo")) {
    add(body["@Message.ExtendedInfo"]);
  }
  std::string out;
  for (const std::string& w : words) {
    if (out.find(w) != std::string::npos) continue;
    out += (out.empty() ? "" : "; ") + w;
  }
  if (out.empty() && !r.body.empty()) out = r.body.substr(0, 200);
  return base::Printable(out, 300);
}

// A string member of a JSON object, or "".
std::string Text(const json& j, std::string_view key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// j[key], or null when j is no object or has no key: safe to read further
// with Text, Link and contains().
const json& Member(const json& j, std::string_view key) {
  static const json kNone;
  if (!j.is_object()) return kNone;
  auto it = j.find(key);
  return it != j.end() ? *it : kNone;
}

// The @odata.id of j[key], or "".
std::string Link(const json& j, std::string_view key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() ? Text(*it, "@odata.id") : std::string();
}

class Service {
 public:
  explicit Service(const RedfishTarget& target) : target_(target), c_(target.config) {
    const std::string& host = c_.bmc.host;
    const bool v6 = host.find(':') != std::string::npos;
    base_ = fmt::format("https://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", c_.bmc.port);
  }
  // The session is deleted on every path. An allocation failure while
  // deleting it leaves it to the BMC's session timeout.
  ~Service() {
    try {
      Logout();
    } catch (...) {
    }
  }
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  std::string Where() const { return fmt::format("BMC {} (Redfish)", c_.bmc.ToString()); }

  // Reads the service root and logs in.
  Status Login() {
    if (!c_.tls_verify) {
      spdlog::warn(
          "{}: tls_verify = false: the BMC's certificate is not checked, so anyone on the path "
          "can pose as it and read the password",
          Where());
    }
    Result<json> root = Get("/redfish/v1/", /*authenticated=*/false);
    if (!root.ok()) return root.status();
    root_ = std::move(*root);
    std::string sessions = Link(Member(root_, "Links"), "Sessions");
    if (sessions.empty()) {
      spdlog::info("{}: no SessionService; using HTTP basic authentication", Where());
      basic_ = true;
      return Status::Ok();
    }
    std::string body =
        json{{"UserName", c_.username}, {"Password", target_.password.reveal()}}.dump();
    Result<http::HttpResponse> r = Send("POST", sessions, body, /*authenticated=*/false);
    Wipe(&body);
    if (!r.ok()) return r.status();
    if (r->status == 404 || r->status == 405 || r->status == 501) {
      spdlog::info("{}: sessions refused ({}); using HTTP basic authentication", Where(),
                   r->status);
      basic_ = true;
      return Status::Ok();
    }
    if (r->status == 401 || r->status == 403) {
      return Status::PermissionDenied(
          fmt::format("{}: login as \"{}\" refused ({}): {}; not retried", Where(), c_.username,
                      r->status, ErrorWords(*r)));
    }
    if (r->status / 100 != 2) return Failed(*r, "login");
    token_ = r->Header("X-Auth-Token");
    session_ = PathOf(r->Header("Location"));
    if (session_.empty()) {
      const json created = json::parse(r->body, nullptr, false);
      session_ = PathOf(Text(created, "@odata.id"));
    }
    if (token_.empty()) {
      return Status::Invalid(
          fmt::format("{}: login answered {} without an X-Auth-Token", Where(), r->status));
    }
    return Status::Ok();
  }

  // Deletes the session, once, best effort.
  void Logout() {
    if (token_.empty()) return;
    if (!session_.empty()) {
      Result<http::HttpResponse> r = Send("DELETE", session_, {}, true, /*retries=*/0);
      if (!r.ok()) {
        spdlog::warn("{}: deleting the session: {}", Where(), r.status().message());
      } else if (r->status / 100 != 2) {
        spdlog::warn("{}: deleting the session answered {}: {}", Where(), r->status,
                     ErrorWords(*r));
      }
    }
    Wipe(&token_);
  }

  // The system: the configured id, or the service's only one.
  Result<json> System() {
    std::string systems = Link(root_, "Systems");
    if (systems.empty()) systems = "/redfish/v1/Systems";
    Result<json> collection = Get(systems);
    if (!collection.ok()) return collection.status();
    std::vector<std::string> members;
    if (collection->contains("Members") && (*collection)["Members"].is_array()) {
      for (const json& m : (*collection)["Members"]) {
        std::string path = PathOf(Text(m, "@odata.id"));
        if (!path.empty()) members.push_back(path);
      }
    }
    auto id_of = [](const std::string& path) {
      std::string_view p = path;
      while (p.ends_with('/')) p.remove_suffix(1);
      return std::string(p.substr(p.rfind('/') + 1));
    };
    std::string ids;
    for (const std::string& m : members) ids += (ids.empty() ? "" : ", ") + id_of(m);
    std::string chosen;
    if (!c_.system_id.empty()) {
      for (const std::string& m : members) {
        if (id_of(m) == c_.system_id) chosen = m;
      }
      if (chosen.empty()) {
        return Status::NotFound(fmt::format("{}: no system \"{}\"; it has: {}", Where(),
                                            c_.system_id, ids.empty() ? "none" : ids));
      }
    } else if (members.size() == 1) {
      chosen = members[0];
    } else {
      return Status::FailedPrecondition(
          fmt::format("{}: {} systems ({}); set system_id to the standby's", Where(),
                      members.size(), ids.empty() ? "none" : ids));
    }
    Result<json> system = Get(chosen);
    if (!system.ok()) return system.status();
    system_ = chosen;
    return system;
  }

  const std::string& system_path() const { return system_; }

  Result<json> Get(const std::string& path, bool authenticated = true) {
    Result<http::HttpResponse> r = Send("GET", path, {}, authenticated);
    if (!r.ok()) return r.status();
    if (r->status != 200) return Failed(*r, "GET " + path);
    json body = json::parse(r->body, nullptr, false);
    if (!body.is_object()) {
      return Status::Invalid(
          fmt::format("{}: GET {}: the answer is not a JSON object", Where(), base::Quote(path)));
    }
    return body;
  }

  // A request, sent again after 503 or a failed connection, `retries`
  // times (the target's when negative) with backoff or the Retry-After
  // asked for (30 s at most).
  Result<http::HttpResponse> Send(const std::string& method, const std::string& path,
                                  const std::string& body, bool authenticated = true,
                                  int retries = -1) {
    if (retries < 0) retries = c_.retries;
    std::chrono::milliseconds wait{500};
    for (int attempt = 0;; ++attempt) {
      http::HttpRequest req;
      req.url = base_ + path;
      req.method = method;
      req.timeout = c_.timeout;
      req.ca_file = c_.ca_file;
      req.pinned_public_key = c_.pinned_public_key;
      // A pinned key identifies the BMC on its own: its self-signed
      // certificate needs no chain.
      req.verify_tls = c_.tls_verify && (c_.pinned_public_key.empty() || !c_.ca_file.empty());
      req.headers = {{"Accept", "application/json"}, {"OData-Version", "4.0"}};
      if (!body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
        req.body = body;
      }
      if (authenticated && !token_.empty()) req.headers.emplace_back("X-Auth-Token", token_);
      if (authenticated && basic_) {
        req.username = c_.username;
        req.password = target_.password.reveal();
      }
      Result<http::HttpResponse> r = client_.Perform(req);
      Wipe(&req.body);
      Wipe(&req.password);
      for (auto& [name, value] : req.headers) {
        if (name == "X-Auth-Token") Wipe(&value);
      }
      const bool again = r.ok() ? r->status == 503
                                : r.status().code() == base::Code::kUnavailable ||
                                      r.status().code() == base::Code::kTimeout;
      if (!again || attempt >= retries) {
        if (!r.ok()) {
          return Status(r.status().code(),
                        fmt::format("{}: {}{}", Where(), r.status().message(),
                                    attempt > 0 ? fmt::format(" (after {} tries)", attempt + 1)
                                                : std::string()));
        }
        return r;
      }
      std::chrono::milliseconds pause = wait;
      if (r.ok()) {
        const std::string after = r->Header("Retry-After");
        if (!after.empty() && std::all_of(after.begin(), after.end(), ::isdigit) &&
            after.size() < 4) {
          pause = std::chrono::seconds(std::min(std::stoi(after), 30));
        }
      }
      spdlog::debug("{}: {} {}: {}; trying again in {} ms", Where(), method, path,
                    r.ok() ? fmt::format("{}", r->status) : r.status().message(), pause.count());
      std::this_thread::sleep_for(pause);
      wait = std::min(wait * 2, std::chrono::milliseconds(8'000));
    }
  }

  Status Failed(const http::HttpResponse& r, std::string_view what) const {
    const std::string message =
        fmt::format("{}: {} answered {}: {}", Where(), what, r.status, ErrorWords(r));
    if (r.status == 401 || r.status == 403) return Status::PermissionDenied(message);
    if (r.status == 404) return Status::NotFound(message);
    if (r.status == 400 || r.status == 405 || r.status == 409) {
      return Status::FailedPrecondition(message);
    }
    return Status::Unavailable(message);
  }

 private:
  const RedfishTarget& target_;
  const config::RedfishPower& c_;
  std::string base_;
  http::HttpClient client_;
  json root_;
  std::string token_, session_, system_;
  bool basic_ = false;
};

// The ResetType values the system's Reset action allows; `known` false
// when the BMC says nothing of them.
std::vector<std::string> AllowedResets(Service& service, const json& action, bool* known) {
  std::vector<std::string> allowed;
  *known = false;
  auto take = [&](const json& values) {
    if (!values.is_array()) return;
    *known = true;
    for (const json& v : values) {
      if (v.is_string()) allowed.push_back(v.get<std::string>());
    }
  };
  if (action.contains("ResetType@Redfish.AllowableValues")) {
    take(action["ResetType@Redfish.AllowableValues"]);
    return allowed;
  }
  const std::string info = PathOf(Text(action, "@Redfish.ActionInfo"));
  if (info.empty()) return allowed;
  Result<json> j = service.Get(info);
  if (!j.ok()) {
    spdlog::warn("{}", j.status().message());
    return allowed;
  }
  if (j->contains("Parameters") && (*j)["Parameters"].is_array()) {
    for (const json& p : (*j)["Parameters"]) {
      if (Text(p, "Name") == "ResetType" && p.contains("AllowableValues")) {
        take(p["AllowableValues"]);
      }
    }
  }
  return allowed;
}

// Follows a task monitor until the task ends (the monitor stops answering
// 202), within `limit`.
Status FollowTask(Service& service, const std::string& monitor, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    Result<http::HttpResponse> r = service.Send("GET", monitor, {});
    if (!r.ok()) return r.status();
    if (r->status != 202) {
      if (r->status / 100 != 2) return service.Failed(*r, "the reset's task");
      const json task = json::parse(r->body, nullptr, false);
      const std::string state = Text(task, "TaskState");
      if (state == "Exception" || state == "Killed" || state == "Cancelled") {
        return Status::Unavailable(fmt::format("{}: the reset's task ended {}: {}", service.Where(),
                                               state, ErrorWords(*r)));
      }
      return Status::Ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Timeout(fmt::format("{}: the reset's task {} did not end within {} s",
                                         service.Where(), base::Quote(monitor),
                                         limit.count() / 1000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

Result<RedfishPowerState> GetRedfishPowerState(const RedfishTarget& target) {
  Service service(target);
  SB_RETURN_IF_ERROR(service.Login());
  Result<json> system = service.System();
  if (!system.ok()) return system.status();
  RedfishPowerState s;
  s.state = Text(*system, "PowerState");
  s.system = service.system_path();
  if (s.state.empty()) {
    return Status::Invalid(
        fmt::format("{}: system {} reports no PowerState", service.Where(), base::Quote(s.system)));
  }
  return s;
}

Result<std::string> RedfishResetSystem(const RedfishTarget& target, RedfishReset reset) {
  Service service(target);
  SB_RETURN_IF_ERROR(service.Login());
  Result<json> system = service.System();
  if (!system.ok()) return system.status();
  const std::string state = Text(*system, "PowerState");
  // Already there: nothing to ask (some BMCs answer 409 to a reset that
  // changes nothing).
  if ((reset == RedfishReset::kOn && state == "On") ||
      (reset != RedfishReset::kOn && state == "Off")) {
    return std::string("none (already ") + state + ")";
  }
  const json& action = Member(Member(*system, "Actions"), "#ComputerSystem.Reset");
  const std::string target_path = PathOf(Text(action, "target"));
  if (target_path.empty()) {
    return Status::FailedPrecondition(
        fmt::format("{}: system {} has no #ComputerSystem.Reset action", service.Where(),
                    service.system_path()));
  }
  // What does the job, best first. A power button push turns an off host
  // on and asks a running one to shut down (ACPI).
  std::vector<std::string> wanted;
  switch (reset) {
    case RedfishReset::kOn:
      wanted = {"On", "ForceOn", "PushPowerButton"};
      break;
    case RedfishReset::kForceOff:
      wanted = {"ForceOff"};
      break;
    case RedfishReset::kGracefulShutdown:
      wanted = {"GracefulShutdown", "PushPowerButton"};
      break;
  }
  bool known = false;
  const std::vector<std::string> allowed = AllowedResets(service, action, &known);
  std::string chosen;
  for (const std::string& w : wanted) {
    if (!known || std::find(allowed.begin(), allowed.end(), w) != allowed.end()) {
      chosen = w;
      break;
    }
  }
  if (chosen.empty()) {
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    std::string want_list;
    for (const std::string& w : wanted) want_list += (want_list.empty() ? "" : " or ") + w;
    return Status::FailedPrecondition(fmt::format("{}: the BMC allows ResetType {}; none of {}",
                                                  service.Where(), list.empty() ? "nothing" : list,
                                                  want_list));
  }
  Result<http::HttpResponse> r =
      service.Send("POST", target_path, json{{"ResetType", chosen}}.dump());
  if (!r.ok()) return r.status();
  if (r->status == 202) {
    const std::string monitor = PathOf(r->Header("Location"));
    if (!monitor.empty()) {
      SB_RETURN_IF_ERROR(
          FollowTask(service, monitor,
                     std::max(std::chrono::milliseconds(60'000), target.config.timeout * 6)));
    }
  } else if (r->status / 100 != 2) {
    return service.Failed(*r, "ResetType " + chosen);
  }
  return chosen;
}

}  // namespace sb::power
