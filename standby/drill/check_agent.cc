// The checks that run on the standby through its agent: command, file and
// canary.

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <re2/re2.h>

#include "agent/base/units.h"
#include "agent/proto/message.h"
#include "standby/drill/check_kinds.h"
#include "standby/restore/source_age.h"

namespace sb::drill::internal {
namespace {

std::string Trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

std::string Shortened(std::string s, size_t max) {
  s = Trimmed(std::move(s));
  if (s.size() > max) s = s.substr(0, max) + "...";
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

base::Status NoAgent() { return base::Status::Unavailable("no connection to the standby's agent"); }

// The agent's StatFile reply for `path`.
base::Result<nlohmann::json> Stat(AgentSession* agent, const std::string& path,
                                  size_t content_max) {
  nlohmann::json body = {{"path", path}};
  if (content_max > 0) body["content_max"] = content_max;
  base::Result<nlohmann::json> r = agent->Call(proto::type::kStatFile, std::move(body));
  if (!r.ok()) return r.status().WithContext(fmt::format("reading {} on the standby", path));
  return r;
}

std::string ContentOf(const nlohmann::json& stat) {
  auto it = stat.find("content");
  if (it == stat.end() || !it->is_binary()) return {};
  const auto& bytes = it->get_binary();
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

CheckRun RunCommandCheck(const config::SmokeCheck& check, AgentSession* agent) {
  CheckRecorder rec(check);
  if (agent == nullptr) return rec.NotRun(NoAgent());
  base::Result<nlohmann::json> r = agent->Call(proto::type::kRunCommand, {{"name", check.command}});
  if (!r.ok()) {
    return rec.NotRun(
        r.status().WithContext(fmt::format("command {} could not run", check.command)));
  }
  const int exit_code = r->value("exit_code", -1);
  const bool timed_out = r->value("timed_out", false);
  const std::string out = r->value("stdout", "");
  const std::string err = Shortened(r->value("stderr", ""), 200);
  rec.measured()["exit_code"] = exit_code;
  if (timed_out) return rec.Fail(fmt::format("command {} timed out on the standby", check.command));
  if (exit_code != 0) {
    return rec.Fail(fmt::format("command {} exited {}{}{}", check.command, exit_code,
                                err.empty() ? "" : ": ", err));
  }
  if (!check.output_regex.empty() && !RE2::PartialMatch(out, RE2(check.output_regex, RE2::Quiet))) {
    return rec.Fail(fmt::format("command {} exited 0 but its output does not match /{}/: \"{}\"",
                                check.command, check.output_regex, Shortened(out, 200)));
  }
  return rec.Pass(fmt::format("command {} exited 0{}", check.command,
                              check.output_regex.empty() ? "" : ", output as expected"));
}

CheckRun RunFileCheck(const config::SmokeCheck& check, const CheckTarget& target,
                      AgentSession* agent) {
  CheckRecorder rec(check);
  const config::FileCheck& f = check.file;
  if (agent == nullptr) return rec.NotRun(NoAgent());
  base::Result<nlohmann::json> st = Stat(agent, f.path, 0);
  if (!st.ok()) return rec.NotRun(st.status());
  if (!st->value("exists", false))
    return rec.Fail(fmt::format("{} does not exist on the standby", f.path));
  const std::string type = st->value("type", "");
  const uint64_t size = st->value("size", uint64_t{0});
  const int64_t mtime_ms = st->value("mtime_ns", int64_t{0}) / 1'000'000;
  const std::string sha256 = st->value("sha256", "");
  rec.measured() = {{"type", type}, {"size", size}, {"mtime_wall_ms", mtime_ms}};
  if (!sha256.empty()) rec.measured()["sha256"] = sha256;
  if (!f.type.empty() && type != f.type) {
    return rec.Fail(fmt::format("{} is a {}, expected a {}", f.path, type, f.type));
  }
  if (f.min_size && size < *f.min_size) {
    return rec.Fail(fmt::format("{} has {}, less than min_size {}", f.path, base::FormatSize(size),
                                base::FormatSize(*f.min_size)));
  }
  if (f.max_size && size > *f.max_size) {
    return rec.Fail(fmt::format("{} has {}, more than max_size {}", f.path, base::FormatSize(size),
                                base::FormatSize(*f.max_size)));
  }
  if (!f.sha256.empty() && sha256 != f.sha256) {
    return rec.Fail(fmt::format("{}: sha256 {}, expected {}", f.path,
                                sha256.empty() ? "none (not a file)" : sha256, f.sha256));
  }
  std::string age;
  if (f.max_age) {
    const int64_t age_ms = NowWallMs(target) - mtime_ms;
    if (age_ms > f.max_age->count()) {
      return rec.Fail(fmt::format("{} was modified {} ago, longer than max_age {}", f.path,
                                  base::FormatDuration(std::chrono::milliseconds(age_ms)),
                                  base::FormatDuration(*f.max_age)));
    }
    age =
        fmt::format(", modified {} ago",
                    base::FormatDuration(std::chrono::milliseconds(std::max<int64_t>(age_ms, 0))));
  }
  return rec.Pass(fmt::format("{}: {} of {}{}{}", f.path, type, base::FormatSize(size),
                              f.sha256.empty() ? "" : ", sha256 as expected", age));
}

CheckRun RunCanaryCheck(const config::SmokeCheck& check, const CheckTarget& target,
                        AgentSession* agent) {
  CheckRecorder rec(check);
  if (agent == nullptr) return rec.NotRun(NoAgent());
  std::vector<std::string> passed;
  rec.measured() = nlohmann::json::array();  // one entry per canary read
  for (const config::RestoreMapping& m : target.restores) {
    if (m.canary.empty()) continue;
    if (!check.canary_target.empty() && m.target != check.canary_target) continue;
    base::Result<restore::SourceAge> backup = restore::ReadSourceAge(m);
    if (!backup.ok()) return rec.NotRun(backup.status());
    const std::string path = m.target + "/" + m.canary;
    base::Result<nlohmann::json> st = Stat(agent, path, 4096);
    if (!st.ok()) return rec.NotRun(st.status());
    if (!st->value("exists", false) || st->value("type", "") != "file") {
      return rec.Fail(fmt::format("canary {} is not on the standby: the restore of {} did not "
                                  "bring it",
                                  path, m.source),
                      true);
    }
    const std::string here = Trimmed(ContentOf(*st));
    const std::string there = Trimmed(backup->canary_text);
    if (here != there) {
      return rec.Fail(fmt::format("canary {} on the standby says \"{}\", the backup {} says "
                                  "\"{}\": the standby does not hold this backup",
                                  path, Shortened(here, 60), m.source, Shortened(there, 60)),
                      true);
    }
    const int64_t age_ms = NowWallMs(target) - backup->newest_wall_ms;
    rec.measured().push_back(
        {{"target", m.target}, {"canary_wall_ms", backup->newest_wall_ms}, {"age_ms", age_ms}});
    if (-age_ms > std::chrono::milliseconds(restore::kClockSkewAllowance).count()) {
      return rec.Fail(fmt::format("canary {} is dated {} in the future: its age, and so the RPO, "
                                  "is unknown; check the clock of the host that wrote it",
                                  path, base::FormatDuration(std::chrono::milliseconds(-age_ms))),
                      true);
    }
    passed.push_back(
        fmt::format("{} ({} old)", path,
                    base::FormatDuration(std::chrono::milliseconds(std::max<int64_t>(age_ms, 0)))));
  }
  if (passed.empty()) {
    return rec.NotRun(base::Status::Invalid("no restore with a canary to check"));
  }
  std::string list;
  for (const std::string& p : passed) list += (list.empty() ? "" : ", ") + p;
  return rec.Pass(fmt::format("the standby's canary equals the backup's: {}", list));
}

}  // namespace sb::drill::internal
