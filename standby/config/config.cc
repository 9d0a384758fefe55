#include "standby/config/config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "agent/base/config_reader.h"
#include "agent/base/file.h"
#include "agent/sync/path.h"
#include "standby/schedule/cron.h"
#include "standby/schedule/next_run.h"

namespace sb::config {
namespace {

using base::Need;
using base::TableReader;

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

bool ValidEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool ParseMac(std::string_view text, std::array<uint8_t, 6>* mac) {
  if (text.size() != 17) return false;
  for (size_t i = 0; i < 6; ++i) {
    std::string_view pair = text.substr(i * 3, 2);
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return false;
    if (!std::isxdigit(static_cast<unsigned char>(pair[0])) ||
        !std::isxdigit(static_cast<unsigned char>(pair[1]))) {
      return false;
    }
    (*mac)[i] = static_cast<uint8_t>(std::stoi(std::string(pair), nullptr, 16));
  }
  return true;
}

// Reads `key` as a name (letters, digits, . _ -), required.
std::optional<std::string> ReadName(TableReader& t, std::string_view key) {
  std::optional<std::string> name = t.String(key, Need::kRequired);
  if (name && !ValidName(*name)) {
    t.ErrorAt(key, fmt::format("\"{}\" is not a valid name (use letters, digits, '.', '_' and "
                               "'-', at most 64)",
                               *name));
    return std::nullopt;
  }
  return name;
}

std::optional<base::Endpoint> ReadEndpoint(TableReader& t, std::string_view key,
                                           uint16_t default_port, Need need) {
  std::optional<std::string> text = t.String(key, need);
  if (!text) return std::nullopt;
  base::Result<base::Endpoint> ep = base::ParseEndpoint(*text, default_port);
  if (!ep.ok()) {
    t.ErrorAt(key, ep.status().message());
    return std::nullopt;
  }
  return *ep;
}

// Reads an absolute path (relative ones are resolved against the config file
// when `resolve` is set, and refused otherwise).
std::optional<std::string> ReadPath(TableReader& t, std::string_view key, Need need,
                                    const std::string& config_path, bool resolve) {
  std::optional<std::string> path = t.String(key, need);
  if (!path || path->empty()) return path;
  if (path->find('\0') != std::string::npos) {
    t.ErrorAt(key, "path contains a NUL byte");
    return std::nullopt;
  }
  if (path->front() != '/') {
    if (!resolve) {
      t.ErrorAt(key, fmt::format("\"{}\" must be an absolute path", *path));
      return std::nullopt;
    }
    return base::ResolveConfigPath(config_path, *path);
  }
  return path;
}

// password_file / password_env (or another prefix): exactly one of them.
std::optional<SecretRef> ReadSecret(TableReader& t, std::string_view prefix, Need need,
                                    const std::string& config_path) {
  std::string file_key = fmt::format("{}_file", prefix);
  std::string env_key = fmt::format("{}_env", prefix);
  t.Forbid(prefix, fmt::format("secrets are not accepted in the config text; put it in a file "
                               "readable only by its owner and name it with {}, or name an "
                               "environment variable with {}",
                               file_key, env_key));
  std::optional<std::string> file = ReadPath(t, file_key, Need::kOptional, config_path, true);
  std::optional<std::string> env = t.String(env_key);
  if (file && env) {
    t.ErrorAt(env_key, fmt::format("give either {} or {}, not both", file_key, env_key));
    return std::nullopt;
  }
  if (file) {
    base::Status s = CheckSecretFile(*file);
    if (!s.ok()) {
      t.ErrorAt(file_key, s.message());
      return std::nullopt;
    }
    return SecretRef{SecretRef::Kind::kFile, *file};
  }
  if (env) {
    if (!ValidEnvName(*env)) {
      t.ErrorAt(env_key, fmt::format("\"{}\" is not a valid environment variable name", *env));
      return std::nullopt;
    }
    return SecretRef{SecretRef::Kind::kEnv, *env};
  }
  if (need == Need::kRequired && !t.Has(prefix)) {  // else the Forbid error says it all
    t.Error(fmt::format("missing {} or {}", file_key, env_key));
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> ReadArgv(TableReader& t, std::string_view key, Need need) {
  std::optional<std::vector<std::string>> argv = t.StringArray(key, need);
  if (argv && !argv->empty() && (*argv)[0].empty()) {
    t.ErrorAt(key, "the program name (first element) is empty");
    return std::nullopt;
  }
  return argv;
}

void ReadIpmi(TableReader& t, const std::string& config_path, IpmiPower* ipmi) {
  if (auto bmc = ReadEndpoint(t, "host", 623, Need::kRequired)) ipmi->bmc = *bmc;
  if (auto user = t.String("username", Need::kRequired)) ipmi->username = *user;
  if (auto secret = ReadSecret(t, "password", Need::kRequired, config_path)) {
    ipmi->password = *secret;
  }
  // "auto", 17 or 3: a string or an integer, so look at the type first.
  if (const toml::node* suite = t.Raw("cipher_suite")) {
    std::optional<int64_t> number = suite->value<int64_t>();
    std::optional<std::string> text = suite->value<std::string>();
    if (text && *text == "auto") {
      ipmi->cipher_suite = IpmiCipherSuite::kAuto;
    } else if (suite->is_integer() && number == 17) {
      ipmi->cipher_suite = IpmiCipherSuite::kSuite17;
    } else if (suite->is_integer() && number == 3) {
      ipmi->cipher_suite = IpmiCipherSuite::kSuite3;
    } else {
      t.ErrorAt("cipher_suite", "expected \"auto\", 17 (HMAC-SHA256) or 3 (HMAC-SHA1)");
    }
  }
  if (auto d = t.DurationValue("timeout", Duration(100))) ipmi->timeout = *d;
  if (auto n = t.Integer("retries", 0, 10)) ipmi->retries = static_cast<int>(*n);
  if (auto d = t.DurationValue("min_interval", Duration(0))) ipmi->min_interval = *d;
}

void ReadWol(TableReader& t, const std::string& config_path, WolPower* wol) {
  if (auto mac = t.String("mac", Need::kRequired)) {
    if (!ParseMac(*mac, &wol->mac)) {
      t.ErrorAt("mac", fmt::format("\"{}\" is not a MAC address like \"52:54:00:12:34:56\"", *mac));
    }
  }
  if (auto b = t.String("broadcast")) {
    in_addr addr;
    if (::inet_pton(AF_INET, b->c_str(), &addr) != 1) {
      t.ErrorAt("broadcast", fmt::format("\"{}\" is not an IPv4 address", *b));
    } else {
      wol->broadcast = *b;
    }
  }
  if (auto p = t.Integer("port", 1, 65535)) wol->port = static_cast<uint16_t>(*p);
  if (auto i = t.String("interface")) wol->interface = *i;
  if (auto n = t.Integer("packets", 1, 10)) wol->packets = static_cast<int>(*n);
  wol->probe = ReadEndpoint(t, "probe", 0, Need::kOptional);
  wol->secureon = ReadSecret(t, "secureon", Need::kOptional, config_path);
}

void ReadCommandPower(TableReader& t, CommandPower* command) {
  if (auto a = ReadArgv(t, "on", Need::kRequired)) command->on = *a;
  if (auto a = ReadArgv(t, "off", Need::kRequired)) command->off = *a;
  if (auto a = ReadArgv(t, "status", Need::kRequired)) command->status = *a;
  if (auto a = ReadArgv(t, "soft_off", Need::kOptional)) command->soft_off = *a;
  if (auto d = t.DurationValue("timeout", Duration(1000))) command->timeout = *d;
}

void ReadPower(TableReader& t, const std::string& config_path, PowerConfig* power) {
  std::optional<std::string> driver = t.String("driver", Need::kRequired);
  if (!driver) return;  // without a driver, the other keys cannot be judged
  if (*driver == "ipmi") {
    power->driver = PowerDriverKind::kIpmi;
    ReadIpmi(t, config_path, &power->ipmi);
  } else if (*driver == "wol") {
    power->driver = PowerDriverKind::kWol;
    ReadWol(t, config_path, &power->wol);
  } else if (*driver == "command") {
    power->driver = PowerDriverKind::kCommand;
    ReadCommandPower(t, &power->command);
  } else {
    t.ErrorAt("driver",
              fmt::format("unknown power driver \"{}\" (use ipmi, wol or command)", *driver));
    return;  // the other keys belong to a driver we do not know
  }
  t.RejectUnknownKeys();
}

bool ValidUrl(std::string_view url) {
  return (url.starts_with("http://") && url.size() > 7) ||
         (url.starts_with("https://") && url.size() > 8);
}

std::optional<std::string> ReadUrl(TableReader& t, std::string_view key) {
  std::optional<std::string> url = t.String(key, Need::kRequired);
  if (url && !ValidUrl(*url)) {
    t.ErrorAt(key, fmt::format("\"{}\" is not an http:// or https:// URL", *url));
    return std::nullopt;
  }
  return url;
}

// A table of id -> id, both 0 to 2^32 - 2: { "1000" = 2001 }.
void ReadIdMap(TableReader& t, std::string_view key, std::map<int64_t, int64_t>* map) {
  const toml::node* node = t.Raw(key);
  if (node == nullptr) return;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    t.ErrorAt(key, "must be a table of numeric ids, such as { \"1000\" = 2001 }");
    return;
  }
  constexpr int64_t kMaxId = 4294967294;
  for (const auto& [from, to] : *table) {
    int64_t from_id = -1;
    const std::string_view text = from.str();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), from_id);
    const std::optional<int64_t> to_id = to.value<int64_t>();
    if (ec != std::errc() || end != text.data() + text.size() || from_id < 0 || from_id > kMaxId ||
        !to_id || *to_id < 0 || *to_id > kMaxId) {
      t.ErrorAt(key, fmt::format("\"{}\": ids must be numbers from 0 to {}", text, kMaxId));
      continue;
    }
    (*map)[from_id] = *to_id;
  }
}

// max_delete: a count (1000) or a percentage ("25%").
void ReadDeleteLimit(TableReader& t, DeleteLimit* limit) {
  const toml::node* node = t.Raw("max_delete");
  if (node == nullptr) return;
  constexpr std::string_view kWhat =
      "must be a count of entries (such as 1000) or a percentage of the target's entries (such "
      "as \"25%\")";
  if (std::optional<int64_t> n = node->value<int64_t>(); node->is_integer()) {
    if (*n < 0) {
      t.ErrorAt("max_delete", kWhat);
    } else {
      *limit = {static_cast<uint64_t>(*n), false};
    }
    return;
  }
  std::optional<std::string> text = node->value<std::string>();
  uint64_t pct = 0;
  bool ok = text && text->size() >= 2 && text->back() == '%';
  if (ok) {
    const char* digits_end = text->data() + text->size() - 1;
    auto [ptr, ec] = std::from_chars(text->data(), digits_end, pct);
    ok = ec == std::errc() && ptr == digits_end && pct <= 100;
  }
  if (!ok) {
    t.ErrorAt("max_delete", kWhat);
    return;
  }
  *limit = {pct, true};
}

void ReadRestore(TableReader& t, const std::string& config_path, RestoreMapping* m) {
  if (auto s = ReadPath(t, "source", Need::kRequired, config_path, true)) m->source = *s;
  if (auto target = ReadPath(t, "target", Need::kRequired, config_path, false)) {
    std::string path = *target;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    // The agent refuses anything else; say so now, at its line.
    base::Status shape = sync::CheckRelativePath(std::string_view(path).substr(1));
    if (path == "/") {
      t.ErrorAt("target", "the target must not be the root directory");
    } else if (!shape.ok()) {
      t.ErrorAt("target", fmt::format("\"{}\": {} (the agent takes only an absolute, "
                                      "normalized path)",
                                      *target, shape.message()));
    } else {
      m->target = path;
    }
  }
  if (auto c = t.String("canary")) {
    if (c->empty() || c->front() == '/' || c->find("..") != std::string::npos) {
      t.ErrorAt("canary", "must be a path relative to the source, without \"..\"");
    } else {
      m->canary = *c;
    }
  }
  m->max_age = t.DurationValue("max_age", Duration(60'000));
  if (auto k = t.Size("keep_free", 0)) m->keep_free = *k;
  ReadDeleteLimit(t, &m->max_delete);
  if (auto o = t.String("owners")) {
    if (*o == "numeric") {
      m->set_owners = true;
    } else if (*o == "none") {
      m->set_owners = false;
    } else {
      t.ErrorAt("owners", fmt::format("unknown owners \"{}\" (use numeric or none)", *o));
    }
  }
  ReadIdMap(t, "uid_map", &m->uid_map);
  ReadIdMap(t, "gid_map", &m->gid_map);
  if (!m->set_owners && (!m->uid_map.empty() || !m->gid_map.empty())) {
    t.Error("uid_map and gid_map need owners = \"numeric\"");
  }
  t.RejectUnknownKeys();
}

void ReadCheck(TableReader& t, SmokeCheck* check) {
  if (auto n = ReadName(t, "name")) check->name = *n;
  std::optional<std::string> kind = t.String("kind", Need::kRequired);
  if (kind && *kind == "http") {
    check->kind = CheckKind::kHttp;
    if (auto u = ReadUrl(t, "url")) check->url = *u;
    if (auto s = t.Integer("expect_status", 100, 599)) check->expect_status = int(*s);
    if (auto b = t.String("body_contains")) check->body_contains = *b;
  } else if (kind && *kind == "command") {
    check->kind = CheckKind::kCommand;
    if (auto c = ReadName(t, "command")) check->command = *c;
  } else if (kind) {
    t.ErrorAt("kind", fmt::format("unknown check kind \"{}\" (use http or command)", *kind));
    return;
  }
  if (auto d = t.DurationValue("timeout", Duration(100))) check->timeout = *d;
  t.RejectUnknownKeys();
}

void ReadProbe(TableReader& t, PerformanceProbe* probe) {
  if (auto n = ReadName(t, "name")) probe->name = *n;
  if (auto u = ReadUrl(t, "primary_url")) probe->primary_url = *u;
  if (auto u = ReadUrl(t, "standby_url")) probe->standby_url = *u;
  // Bounded on purpose: a probe must never load the primary it compares with.
  if (auto r = t.Integer("requests", 1, 1000)) probe->requests = static_cast<int>(*r);
  if (auto d = t.DurationValue("interval", Duration(10))) probe->interval = *d;
  if (auto d = t.DurationValue("timeout", Duration(100))) probe->timeout = *d;
  t.RejectUnknownKeys();
}

// Checks that names in `items` are unique, recording an error at the second.
template <typename T>
void CheckUnique(std::vector<TableReader>& tables, const std::vector<T>& items,
                 std::string_view what) {
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size() && i < tables.size(); ++i) {
    if (items[i].name.empty()) continue;
    if (!seen.insert(items[i].name).second) {
      tables[i].ErrorAt("name", fmt::format("duplicate {} name \"{}\"", what, items[i].name));
    }
  }
}

void CheckTargetsDisjoint(TableReader& t, std::vector<TableReader>& tables,
                          const std::vector<RestoreMapping>& restores) {
  for (size_t i = 0; i < restores.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const std::string& a = restores[i].target;
      const std::string& b = restores[j].target;
      if (a.empty() || b.empty()) continue;
      bool nested = a == b || a.starts_with(b + "/") || b.starts_with(a + "/");
      if (nested) {
        tables[i].ErrorAt("target", fmt::format("target {} overlaps the target {} of restore "
                                                "[{}]; targets must be disjoint",
                                                a, b, t.PathOf(fmt::format("restore[{}]", j))));
      }
    }
  }
}

void ReadStandby(TableReader& t, const std::string& config_path, StandbyConfig* s) {
  if (auto n = ReadName(t, "name")) s->name = *n;
  if (auto a = ReadEndpoint(t, "agent", kDefaultAgentPort, Need::kRequired)) s->agent = *a;
  s->agent_name = t.String("agent_name").value_or(s->name);
  if (auto d = t.DurationValue("max_exposure", Duration(60'000))) s->max_exposure = *d;
  if (auto d = t.DurationValue("boot_timeout", Duration(1'000))) s->boot_timeout = *d;
  if (auto d = t.DurationValue("smoke_timeout", Duration(0))) s->smoke_timeout = *d;
  if (auto d = t.DurationValue("shutdown_timeout", Duration(1'000))) s->shutdown_timeout = *d;
  if (auto d = t.DurationValue("lease", Duration(10'000))) s->lease = *d;
  if (s->lease >= s->max_exposure && t.Has("lease")) {
    t.ErrorAt("lease",
              fmt::format("the lease ({}) must be shorter than max_exposure ({})",
                          base::FormatDuration(s->lease), base::FormatDuration(s->max_exposure)));
  }
  if (auto power = t.Table("power", Need::kRequired)) ReadPower(*power, config_path, &s->power);

  std::vector<TableReader> restores = t.TableArray("restore");
  for (TableReader& r : restores) ReadRestore(r, config_path, &s->restores.emplace_back());
  CheckTargetsDisjoint(t, restores, s->restores);

  std::vector<TableReader> checks = t.TableArray("check");
  for (TableReader& c : checks) ReadCheck(c, &s->checks.emplace_back());
  CheckUnique(checks, s->checks, "check");

  std::vector<TableReader> probes = t.TableArray("probe");
  for (TableReader& p : probes) ReadProbe(p, &s->probes.emplace_back());
  CheckUnique(probes, s->probes, "probe");
  t.RejectUnknownKeys();
}

void ReadController(TableReader& t, const std::string& config_path, ControllerConfig* c) {
  if (auto d = ReadPath(t, "state_dir", Need::kOptional, config_path, true)) {
    // Checked now, not when a command first opens the state store.
    base::Status usable = base::CheckStateDirectory(*d);
    if (usable.ok()) {
      c->state_dir = *d;
    } else {
      t.ErrorAt("state_dir", usable.message());
    }
  }
  if (auto tls = t.Table("tls")) {
    if (auto p = ReadPath(*tls, "ca", Need::kRequired, config_path, true)) c->tls.ca = *p;
    if (auto p = ReadPath(*tls, "cert", Need::kRequired, config_path, true)) c->tls.cert = *p;
    if (auto p = ReadPath(*tls, "key", Need::kRequired, config_path, true)) c->tls.key = *p;
    tls->RejectUnknownKeys();
  }
  t.RejectUnknownKeys();
}

void ReadPrimary(TableReader& t, PrimaryConfig* p) {
  if (auto n = ReadName(t, "name")) p->name = *n;
  if (auto a = ReadEndpoint(t, "agent", kDefaultAgentPort, Need::kRequired)) p->agent = *a;
  p->agent_name = t.String("agent_name").value_or(p->name);
  if (auto m = t.Integer("max_sessions", 1, 16)) p->max_sessions = static_cast<int>(*m);
  t.RejectUnknownKeys();
}

bool KnownTimezone(const std::string& tz) {
  if (tz == "UTC") return true;
  if (tz.empty() || tz.front() == '/' || tz.find("..") != std::string::npos) return false;
  struct stat st;
  std::string path = "/usr/share/zoneinfo/" + tz;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void ReadSchedule(TableReader& t, const Config& config, Schedule* s) {
  if (auto n = ReadName(t, "name")) s->name = *n;
  if (auto standby = t.String("standby", Need::kRequired)) {
    s->standby = *standby;
    if (config.FindStandby(*standby) == nullptr) {
      t.ErrorAt("standby", fmt::format("no [[standby]] is named \"{}\"", *standby));
    }
  }
  if (auto cron = t.String("cron", Need::kRequired)) {
    base::Result<schedule::CronSpec> spec = schedule::ParseCron(*cron);
    if (!spec.ok()) {
      t.ErrorAt("cron", spec.status().message());
    } else if (!schedule::NextRun(*spec, "UTC", 0).ok()) {
      // Whether a date exists does not depend on the zone; from a fixed
      // instant, so the check is the same every time.
      t.ErrorAt("cron",
                fmt::format("\"{}\" names a day that never comes (such as 31 February)", *cron));
    } else {
      s->cron = *cron;
    }
  }
  if (auto tz = t.String("timezone")) {
    if (!KnownTimezone(*tz)) {
      t.ErrorAt("timezone", fmt::format("unknown time zone \"{}\" (use a name from "
                                        "/usr/share/zoneinfo, like \"Europe/Berlin\", or "
                                        "\"UTC\")",
                                        *tz));
    } else {
      s->timezone = *tz;
    }
  }
  if (auto d = t.DurationValue("random_delay", Duration(0))) s->random_delay = *d;
  if (auto d = t.DurationValue("grace", Duration(0))) s->grace = *d;
  t.RejectUnknownKeys();
}

void ReadConfig(TableReader root, Config* config) {
  const std::string& path = config->path;
  if (auto c = root.Table("controller")) ReadController(*c, path, &config->controller);
  if (auto p = root.Table("primary")) ReadPrimary(*p, &config->primary.emplace());

  std::vector<TableReader> standbys = root.TableArray("standby", Need::kRequired);
  for (TableReader& s : standbys) ReadStandby(s, path, &config->standbys.emplace_back());
  CheckUnique(standbys, config->standbys, "standby");
  for (size_t i = 0; i < standbys.size(); ++i) {
    if (!config->standbys[i].probes.empty() && !config->primary) {
      standbys[i].ErrorAt("probe",
                          "performance probes compare with the primary; add a "
                          "[primary] section");
    }
  }

  std::vector<TableReader> schedules = root.TableArray("schedule");
  for (TableReader& s : schedules) ReadSchedule(s, *config, &config->schedules.emplace_back());
  CheckUnique(schedules, config->schedules, "schedule");
  root.RejectUnknownKeys();
}

}  // namespace

std::string DeleteLimit::ToString() const {
  return percent ? fmt::format("{}%", value) : fmt::format("{}", value);
}

const StandbyConfig* Config::FindStandby(std::string_view name) const {
  for (const StandbyConfig& s : standbys) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

base::Result<Config> LoadConfig(const std::string& path) {
  base::ConfigFile file = base::ConfigFile::Load(path);
  return base::ReadWholeConfig<Config>(file, path, ReadConfig);
}

base::Result<Config> ParseConfig(std::string_view text, const std::string& path) {
  base::ConfigFile file = base::ConfigFile::Parse(text, path);
  return base::ReadWholeConfig<Config>(file, path, ReadConfig);
}

std::string_view PowerDriverName(PowerDriverKind kind) {
  switch (kind) {
    case PowerDriverKind::kIpmi:
      return "ipmi";
    case PowerDriverKind::kWol:
      return "wol";
    case PowerDriverKind::kCommand:
      return "command";
  }
  return "unknown";
}

}  // namespace sb::config
