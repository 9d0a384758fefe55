#include "standby/config/config.h"

#include <arpa/inet.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <re2/re2.h>

#include "agent/base/config_reader.h"
#include "agent/base/file.h"
#include "agent/base/quote.h"
#include "agent/sync/manifest.h"
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

// A DNS name: labels of letters, digits, '-' and '_', dot-separated, an
// optional final dot.
bool ValidHostName(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  return label > 0;
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
    const char* value = std::getenv(env->c_str());
    if (value == nullptr || *value == '\0') {
      t.MachineProblemAt(env_key, fmt::format("the environment variable {} is not set here; "
                                              "commands that need it will refuse to run",
                                              *env));
    }
    return SecretRef{SecretRef::Kind::kEnv, *env};
  }
  if (need == Need::kRequired && !t.Has(prefix)) {  // else the Forbid error says it all
    t.Error(fmt::format("missing {} or {}", file_key, env_key));
  }
  return std::nullopt;
}

// Where execvp(3) would find `program`: itself when it holds a slash, else
// the first executable of that name on $PATH; empty when there is none.
std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    return ::access(program.c_str(), X_OK) == 0 ? program : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, program);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

// A command line: a non-empty program name, which should be found here.
std::optional<std::vector<std::string>> ReadArgv(TableReader& t, std::string_view key, Need need) {
  std::optional<std::vector<std::string>> argv = t.StringArray(key, need);
  if (argv && !argv->empty() && (*argv)[0].empty()) {
    t.ErrorAt(key, "the program name (first element) is empty");
    return std::nullopt;
  }
  if (argv && !argv->empty() && FindProgram((*argv)[0]).empty()) {
    t.MachineProblemAt(
        key, fmt::format("the program {} is not {} on this machine", base::Quote((*argv)[0]),
                         (*argv)[0].find('/') != std::string::npos ? "an executable file"
                                                                   : "found on the PATH"));
  }
  return argv;
}

// Whether `source` (a path or a glob) names anything on this machine.
bool SourceExists(const std::string& source) {
  if (source.find_first_of("*?[") == std::string::npos) {
    struct stat st {};
    return ::stat(source.c_str(), &st) == 0;
  }
  glob_t found{};
  const bool any = ::glob(source.c_str(), 0, nullptr, &found) == 0 && found.gl_pathc > 0;
  ::globfree(&found);
  return any;
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

std::optional<std::string> ReadInputFile(TableReader& t, std::string_view key,
                                         const std::string& config_path);

void ReadRedfish(TableReader& t, const std::string& config_path, RedfishPower* redfish) {
  if (auto bmc = ReadEndpoint(t, "host", 443, Need::kRequired)) redfish->bmc = *bmc;
  if (auto user = t.String("username", Need::kRequired)) redfish->username = *user;
  if (auto secret = ReadSecret(t, "password", Need::kRequired, config_path)) {
    redfish->password = *secret;
  }
  if (auto f = ReadInputFile(t, "ca_file", config_path)) redfish->ca_file = *f;
  if (auto pin = t.String("pinned_public_key")) {
    // libcurl's form: sha256// and the base64 of 32 bytes (44 characters).
    static const RE2 kPin("sha256//[A-Za-z0-9+/]{43}=");
    if (!RE2::FullMatch(*pin, kPin)) {
      t.ErrorAt("pinned_public_key",
                "expected \"sha256//\" and the base64 SHA-256 of the BMC's public key (see the "
                "README: Power control)");
    } else {
      redfish->pinned_public_key = *pin;
    }
  }
  if (auto v = t.Bool("tls_verify")) redfish->tls_verify = *v;
  if (!redfish->tls_verify && !redfish->ca_file.empty()) {
    t.ErrorAt("ca_file", "ca_file has no use with tls_verify = false");
  }
  if (auto id = t.String("system_id")) {
    if (id->empty() || id->find_first_of("/?#") != std::string::npos) {
      t.ErrorAt("system_id", fmt::format("\"{}\" is not a system id like \"1\" or "
                                         "\"System.Embedded.1\"",
                                         *id));
    } else {
      redfish->system_id = *id;
    }
  }
  if (auto d = t.DurationValue("timeout", Duration(100))) redfish->timeout = *d;
  if (auto n = t.Integer("retries", 0, 10)) redfish->retries = static_cast<int>(*n);
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
  } else if (*driver == "redfish") {
    power->driver = PowerDriverKind::kRedfish;
    ReadRedfish(t, config_path, &power->redfish);
  } else if (*driver == "wol") {
    power->driver = PowerDriverKind::kWol;
    ReadWol(t, config_path, &power->wol);
  } else if (*driver == "command") {
    power->driver = PowerDriverKind::kCommand;
    ReadCommandPower(t, &power->command);
  } else {
    t.ErrorAt(
        "driver",
        fmt::format("unknown power driver \"{}\" (use ipmi, redfish, wol or command)", *driver));
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
  if (auto s = ReadPath(t, "source", Need::kRequired, config_path, true)) {
    m->source = *s;
    if (!SourceExists(*s)) {
      t.MachineProblemAt(
          "source", fmt::format("{} {} on this machine", base::Quote(*s),
                                s->find_first_of("*?[") == std::string::npos ? "does not exist"
                                                                             : "matches nothing"));
    }
  }
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
  if (auto n = t.Integer("verify_every", 0, 1000)) m->verify_every = static_cast<uint32_t>(*n);
  if (auto b = t.Size("verify_budget", uint64_t{1} << 20)) m->verify_budget = *b;
  if (auto o = t.String("on_corrupt")) {
    if (*o == "fail" || *o == "warn") {
      m->fail_on_corrupt = *o == "fail";
    } else {
      t.ErrorAt("on_corrupt", fmt::format("unknown on_corrupt \"{}\" (use fail or warn)", *o));
    }
  }
  if (!m->set_owners && (!m->uid_map.empty() || !m->gid_map.empty())) {
    t.Error("uid_map and gid_map need owners = \"numeric\"");
  }
  t.RejectUnknownKeys();
}

// Reads an RE2 pattern and records why it does not compile.
std::optional<std::string> ReadRegex(TableReader& t, std::string_view key) {
  std::optional<std::string> pattern = t.String(key);
  if (!pattern) return std::nullopt;
  std::string why = RegexError(*pattern);
  if (!why.empty()) {
    t.ErrorAt(key, fmt::format("not a valid regular expression (RE2 syntax): {}", why));
    return std::nullopt;
  }
  return pattern;
}

// A file the controller reads when the check runs (a CA, a client
// certificate): resolved against the config's directory, and it must be
// readable now.
std::optional<std::string> ReadInputFile(TableReader& t, std::string_view key,
                                         const std::string& config_path) {
  std::optional<std::string> path = ReadPath(t, key, Need::kOptional, config_path, true);
  if (!path || path->empty()) return path;
  if (::access(path->c_str(), R_OK) != 0) {
    t.ErrorAt(key, fmt::format("cannot read {}: {}", *path, std::strerror(errno)));
    return std::nullopt;
  }
  return path;
}

// "host:port" where host may be {host}.
std::optional<std::string> ReadAddress(TableReader& t, std::string_view key, Need need) {
  std::optional<std::string> text = t.String(key, need);
  if (!text) return std::nullopt;
  std::string probe = *text;
  if (size_t at = probe.find(kHostPlaceholder); at != std::string::npos) {
    probe.replace(at, kHostPlaceholder.size(), "host.invalid");
  }
  base::Result<base::Endpoint> ep = base::ParseEndpoint(probe, 0);
  if (!ep.ok() || ep->port == 0) {
    t.ErrorAt(key,
              fmt::format("\"{}\" is not host:port (the host may be {})", *text, kHostPlaceholder));
    return std::nullopt;
  }
  return text;
}

// valid_status = [200, "300-399"]: statuses and inclusive ranges.
void ReadStatusRanges(TableReader& t, std::string_view key, std::vector<StatusRange>* out) {
  const toml::node* node = t.Raw(key);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  auto bad = [&](std::string_view what) {
    t.ErrorAt(key, fmt::format("{}: use a list of statuses (100 to 599) and ranges such as "
                               "[200, \"300-399\"]",
                               what));
  };
  if (array == nullptr || array->empty()) return bad("not a non-empty list");
  std::vector<StatusRange> ranges;
  for (const toml::node& item : *array) {
    StatusRange r;
    if (std::optional<int64_t> n = item.value<int64_t>()) {
      r.low = r.high = static_cast<int>(*n);
    } else if (std::optional<std::string> text = item.value<std::string>()) {
      int low = 0, high = 0;
      char dash = 0;
      char rest = 0;
      if (std::sscanf(text->c_str(), "%d%c%d%c", &low, &dash, &high, &rest) != 3 || dash != '-') {
        return bad(fmt::format("\"{}\" is not a range", *text));
      }
      r.low = low;
      r.high = high;
    } else {
      return bad("an item is neither a number nor a string");
    }
    if (r.low < 100 || r.high > 599 || r.low > r.high) {
      return bad(fmt::format("{}-{} is out of range", r.low, r.high));
    }
    ranges.push_back(r);
  }
  *out = std::move(ranges);
}

// headers = { "Accept" = "text/html" } and header_regex the same way.
void ReadStringTable(TableReader& t, std::string_view key, bool regex,
                     std::vector<std::pair<std::string, std::string>>* out) {
  const toml::node* node = t.Raw(key);
  if (node == nullptr) return;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    t.ErrorAt(key, "must be a table of header names to strings, such as { \"Accept\" = \"*/*\" }");
    return;
  }
  for (const auto& [name, value] : *table) {
    std::optional<std::string> text = value.value<std::string>();
    const bool name_ok =
        !name.str().empty() && std::all_of(name.str().begin(), name.str().end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
    if (!text || !name_ok || text->find_first_of("\r\n") != std::string::npos) {
      t.ErrorAt(key, fmt::format("{}: a header name (letters, digits, '-') and a one-line string",
                                 base::Quote(name.str())));
      continue;
    }
    if (regex) {
      std::string why = RegexError(*text);
      if (!why.empty()) {
        t.ErrorAt(key, fmt::format("{}: not a valid regular expression (RE2 syntax): {}",
                                   base::Quote(name.str()), why));
        continue;
      }
    }
    out->emplace_back(std::string(name.str()), *text);
  }
}

void ReadHttpCheck(TableReader& t, const std::string& config_path, HttpCheck* h) {
  if (auto u = ReadUrl(t, "url")) h->url = *u;
  if (auto m = t.String("method")) {
    static const std::set<std::string> kMethods = {"GET", "HEAD", "POST", "PUT", "OPTIONS"};
    if (kMethods.contains(*m)) {
      h->method = *m;
    } else {
      t.ErrorAt("method", fmt::format("unknown method \"{}\" (use GET, HEAD, POST, PUT or "
                                      "OPTIONS)",
                                      *m));
    }
  }
  ReadStringTable(t, "headers", false, &h->headers);
  if (auto b = t.String("body")) h->body = *b;
  if (!h->body.empty() && (h->method == "GET" || h->method == "HEAD")) {
    t.ErrorAt("body",
              fmt::format("a {} request has no body: set method = \"POST\" or \"PUT\"", h->method));
  }
  if (t.Has("expect_status") && t.Has("valid_status")) {
    t.ErrorAt("valid_status", "give either expect_status or valid_status, not both");
  }
  if (auto s = t.Integer("expect_status", 100, 599)) {
    h->valid_status = {StatusRange{int(*s), int(*s)}};
  }
  ReadStatusRanges(t, "valid_status", &h->valid_status);
  if (auto b = t.String("body_contains")) h->body_contains = *b;
  if (auto r = ReadRegex(t, "body_regex")) h->body_regex = *r;
  if (auto r = ReadRegex(t, "body_not_regex")) h->body_not_regex = *r;
  ReadStringTable(t, "header_regex", true, &h->header_regex);
  if (auto f = t.Bool("follow_redirects")) h->follow_redirects = *f;
  if (auto n = t.String("host_name")) {
    if (!ValidHostName(*n)) {
      t.ErrorAt("host_name", fmt::format("\"{}\" is not a host name", *n));
    } else {
      h->host_name = *n;
    }
  }
  if (auto f = ReadInputFile(t, "ca_file", config_path)) h->ca_file = *f;
  if (auto f = ReadInputFile(t, "client_cert", config_path)) h->client_cert = *f;
  if (auto f = ReadInputFile(t, "client_key", config_path)) h->client_key = *f;
  if (h->client_cert.empty() != h->client_key.empty() &&
      (t.Has("client_cert") || t.Has("client_key"))) {
    t.Error("client_cert and client_key go together: give both or neither");
  }
  if (auto s = t.Bool("same_as_primary")) h->same_as_primary = *s;
  if (auto r = ReadRegex(t, "ignore_regex")) h->ignore_regex = *r;
  if (!h->ignore_regex.empty() && !h->same_as_primary) {
    t.ErrorAt("ignore_regex", "ignore_regex applies to same_as_primary, which is not set");
  }
  if (h->same_as_primary && h->url.find(kHostPlaceholder) == std::string::npos) {
    t.ErrorAt("same_as_primary",
              fmt::format("same_as_primary needs a url with {} (where the primary's address goes)",
                          kHostPlaceholder));
  }
}

void ReadTcpCheck(TableReader& t, const std::string& config_path, TcpCheck* c) {
  if (auto a = ReadAddress(t, "address", Need::kRequired)) c->address = *a;
  if (auto s = t.String("send")) c->send = *s;
  if (auto r = ReadRegex(t, "expect_regex")) c->expect_regex = *r;
  if (auto b = t.Bool("tls")) c->tls = *b;
  if (auto n = t.String("host_name")) c->host_name = *n;
  if (auto f = ReadInputFile(t, "ca_file", config_path)) c->ca_file = *f;
  if (!c->tls && (!c->host_name.empty() || !c->ca_file.empty())) {
    t.Error("host_name and ca_file apply to tls = true");
  }
}

void ReadTlsCheck(TableReader& t, const std::string& config_path, TlsCheck* c) {
  if (auto a = ReadAddress(t, "address", Need::kRequired)) c->address = *a;
  if (auto n = t.StringArray("names", Need::kRequired)) {
    for (const std::string& name : *n) {
      if (!ValidHostName(name)) t.ErrorAt("names", fmt::format("\"{}\" is not a host name", name));
    }
    c->names = *n;
  }
  if (auto f = ReadInputFile(t, "ca_file", config_path)) c->ca_file = *f;
  if (auto d = t.Integer("min_days", 0, 3650)) c->min_days = static_cast<int>(*d);
  if (auto v = t.String("min_version")) {
    if (*v == "TLSv1.2" || *v == "TLSv1.3") {
      c->min_version = *v;
    } else {
      t.ErrorAt("min_version", fmt::format("\"{}\": use TLSv1.2 or TLSv1.3", *v));
    }
  }
}

void ReadDnsCheck(TableReader& t, DnsCheck* c) {
  if (auto n = t.StringArray("names", Need::kRequired)) {
    for (const std::string& name : *n) {
      if (!ValidHostName(name)) t.ErrorAt("names", fmt::format("\"{}\" is not a host name", name));
    }
    c->names = *n;
  }
  if (auto ty = t.String("type")) {
    if (*ty == "A" || *ty == "AAAA" || *ty == "CNAME") {
      c->type = *ty;
    } else {
      t.ErrorAt("type", fmt::format("unknown record type \"{}\" (use A, AAAA or CNAME)", *ty));
    }
  }
  if (auto e = t.StringArray("expect")) {
    for (const std::string& want : *e) {
      in6_addr addr{};
      const bool ok = c->type == "CNAME"  ? ValidHostName(want)
                      : c->type == "AAAA" ? ::inet_pton(AF_INET6, want.c_str(), &addr) == 1
                                          : ::inet_pton(AF_INET, want.c_str(), &addr) == 1;
      if (!ok) {
        t.ErrorAt("expect", fmt::format("\"{}\" cannot be an answer of type {}", want, c->type));
      }
    }
    c->expect = *e;
  }
  if (auto s = ReadAddress(t, "server", Need::kOptional)) c->server = *s;
  if (auto s = ReadAddress(t, "resolver", Need::kOptional)) c->resolver = *s;
  if (!c->server.empty() && !c->resolver.empty()) {
    t.ErrorAt("resolver", "the resolver finds the zone's servers: give it or server, not both");
  }
  if (auto p = t.Integer("ns_port", 1, 65535)) c->ns_port = static_cast<uint16_t>(*p);
  if (auto d = t.DurationValue("max_ttl", Duration(0))) c->max_ttl = *d;
}

void ReadFileCheck(TableReader& t, FileCheck* c) {
  if (auto p = t.String("path", Need::kRequired)) {
    base::Status s =
        p->starts_with("/") ? sync::CheckRelativePath(p->substr(1)) : base::Status::Ok();
    if (!p->starts_with("/") || !s.ok()) {
      t.ErrorAt("path", fmt::format("\"{}\" must be an absolute, normalized path", *p));
    } else {
      c->path = *p;
    }
  }
  if (auto ty = t.String("type")) {
    if (*ty == "file" || *ty == "dir" || *ty == "symlink") {
      c->type = *ty;
    } else {
      t.ErrorAt("type", fmt::format("unknown type \"{}\" (use file, dir or symlink)", *ty));
    }
  }
  if (auto s = t.Size("min_size", 0)) c->min_size = *s;
  if (auto s = t.Size("max_size", 0)) c->max_size = *s;
  if (c->min_size && c->max_size && *c->min_size > *c->max_size) {
    t.ErrorAt("max_size", "max_size is below min_size");
  }
  if (auto h = t.String("sha256")) {
    const bool hex =
        h->size() == 64 && std::all_of(h->begin(), h->end(), [](char ch) {
          return std::isdigit(static_cast<unsigned char>(ch)) || (ch >= 'a' && ch <= 'f');
        });
    if (hex) {
      c->sha256 = *h;
    } else {
      t.ErrorAt("sha256", "must be 64 lowercase hexadecimal digits");
    }
  }
  if (auto d = t.DurationValue("max_age", Duration(1'000))) c->max_age = *d;
}

void ReadCheck(TableReader& t, const std::string& config_path, SmokeCheck* check) {
  if (auto n = ReadName(t, "name")) check->name = *n;
  std::optional<std::string> kind = t.String("kind", Need::kRequired);
  if (!kind) return;
  if (*kind == "http") {
    check->kind = CheckKind::kHttp;
    ReadHttpCheck(t, config_path, &check->http);
  } else if (*kind == "tcp") {
    check->kind = CheckKind::kTcp;
    ReadTcpCheck(t, config_path, &check->tcp);
  } else if (*kind == "tls") {
    check->kind = CheckKind::kTls;
    ReadTlsCheck(t, config_path, &check->tls);
  } else if (*kind == "dns") {
    check->kind = CheckKind::kDns;
    ReadDnsCheck(t, &check->dns);
  } else if (*kind == "command") {
    check->kind = CheckKind::kCommand;
    if (auto c = ReadName(t, "command")) check->command = *c;
    if (auto r = ReadRegex(t, "output_regex")) check->output_regex = *r;
  } else if (*kind == "file") {
    check->kind = CheckKind::kFile;
    ReadFileCheck(t, &check->file);
  } else if (*kind == "canary") {
    check->kind = CheckKind::kCanary;
    if (auto target = t.String("target")) check->canary_target = *target;
  } else {
    t.ErrorAt("kind", fmt::format("unknown check kind \"{}\" (use http, tcp, tls, dns, command, "
                                  "file or canary)",
                                  *kind));
    return;
  }
  if (auto d = t.DurationValue("timeout", Duration(100))) check->timeout = *d;
  if (auto d = t.DurationValue("warmup", Duration(0))) check->warmup = *d;
  t.RejectUnknownKeys();
}

void ReadProbe(TableReader& t, PerformanceProbe* probe) {
  if (auto n = ReadName(t, "name")) probe->name = *n;
  const std::string kind = t.String("kind").value_or("http");
  if (kind == "http") {
    if (auto u = ReadUrl(t, "primary_url")) probe->primary_url = *u;
    if (auto u = ReadUrl(t, "standby_url")) probe->standby_url = *u;
  } else if (kind == "command") {
    probe->kind = ProbeKind::kCommand;
    if (auto c = ReadName(t, "command")) probe->command = *c;
    for (const char* url : {"primary_url", "standby_url"}) {
      t.Forbid(url, "a command probe has no URL: it runs `command` on both agents");
    }
  } else {
    t.ErrorAt("kind", fmt::format("unknown probe kind \"{}\" (use http or command)", kind));
  }
  // Bounded on purpose: a probe must never load the primary it compares with.
  if (auto r = t.Integer("requests", 1, 1000)) probe->requests = static_cast<int>(*r);
  if (auto w = t.Integer("warmup_requests", 0, 100)) probe->warmup_requests = static_cast<int>(*w);
  if (const toml::node* n = t.Raw("slower_ratio")) {
    std::optional<double> v = n->value<double>();
    if (!v || *v < 1.05 || *v > 100) {
      t.ErrorAt("slower_ratio", "must be a number from 1.05 to 100 (such as 1.5)");
    } else {
      probe->slower_ratio = *v;
    }
  }
  if (auto band = t.String("noise_band")) {
    int percent = 0;
    char sign = 0;
    char rest = 0;
    if (std::sscanf(band->c_str(), "%d%c%c", &percent, &sign, &rest) != 2 || sign != '%' ||
        percent < 1 || percent > 50) {
      t.ErrorAt("noise_band", fmt::format("\"{}\": use a percentage from 1% to 50% (such as "
                                          "\"10%\")",
                                          *band));
    } else {
      probe->noise_band = percent / 100.0;
    }
  }
  if (probe->noise_band >= probe->slower_ratio - 1 &&
      (t.Has("noise_band") || t.Has("slower_ratio"))) {
    t.Error("noise_band must be narrower than slower_ratio is above 1");
  }
  if (auto o = t.String("on_slower")) {
    if (*o == "warn" || *o == "fail") {
      probe->on_slower = *o == "fail" ? OnSlower::kFail : OnSlower::kWarn;
    } else {
      t.ErrorAt("on_slower", fmt::format("unknown on_slower \"{}\" (use warn or fail)", *o));
    }
  }
  if (auto d = t.DurationValue("interval", Duration(10))) probe->interval = *d;
  if (auto d = t.DurationValue("timeout", Duration(100))) probe->timeout = *d;
  if (auto d = t.DurationValue("min_difference", Duration(0))) probe->min_difference = *d;
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

// A canary check names a restore that has a canary (or, naming none, needs
// at least one).
void CheckCanaryTargets(std::vector<TableReader>& tables, const StandbyConfig& s) {
  for (size_t i = 0; i < s.checks.size() && i < tables.size(); ++i) {
    const SmokeCheck& c = s.checks[i];
    if (c.kind != CheckKind::kCanary) continue;
    const bool any =
        std::any_of(s.restores.begin(), s.restores.end(), [&](const RestoreMapping& m) {
          return !m.canary.empty() && (c.canary_target.empty() || m.target == c.canary_target);
        });
    if (any) continue;
    if (c.canary_target.empty()) {
      tables[i].Error("a canary check needs a [[standby.restore]] with a canary");
    } else {
      tables[i].ErrorAt("target", fmt::format("no [[standby.restore]] with target {} has a canary",
                                              c.canary_target));
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
  if (auto d = t.DurationValue("rto_target", Duration(1'000))) s->rto_target = *d;
  if (auto d = t.DurationValue("rpo_target", Duration(1'000))) s->rpo_target = *d;
  if (auto d = t.DurationValue("verify_within", Duration(3'600'000))) s->verify_within = *d;
  if (auto d = t.DurationValue("max_hold", Duration(60'000))) {
    if (*d > kMaxHoldLimit) {
      t.ErrorAt("max_hold",
                fmt::format("{} is longer than the {} a hold may last at most",
                            base::FormatDuration(*d), base::FormatDuration(kMaxHoldLimit)));
    } else {
      s->max_hold = *d;
    }
  }
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
  for (TableReader& c : checks) ReadCheck(c, config_path, &s->checks.emplace_back());
  CheckUnique(checks, s->checks, "check");
  CheckCanaryTargets(checks, *s);
  for (size_t i = 0; i < checks.size() && i < s->checks.size(); ++i) {
    if (s->checks[i].warmup >= s->smoke_timeout && s->checks[i].warmup.count() > 0) {
      checks[i].ErrorAt("warmup", fmt::format("a warm-up of {} never ends within the "
                                              "smoke_timeout of {}: the check could never run",
                                              base::FormatDuration(s->checks[i].warmup),
                                              base::FormatDuration(s->smoke_timeout)));
    }
  }

  std::vector<TableReader> probes = t.TableArray("probe");
  for (TableReader& p : probes) ReadProbe(p, &s->probes.emplace_back());
  CheckUnique(probes, s->probes, "probe");
  t.RejectUnknownKeys();
}

// Without [controller.tls] the defaults under /etc/standbyctl/pki apply;
// say so when they are not there, before a drill fails on them.
void CheckDefaultTls(TableReader& t, const net::TlsFiles& tls) {
  for (const std::string* path : {&tls.ca, &tls.cert, &tls.key}) {
    if (::access(path->c_str(), R_OK) == 0) continue;
    t.MachineProblemAt(
        "tls", fmt::format("[controller.tls] is not set and its default {} cannot be read ({}); "
                           "create the files with standbyctl pki, or name them in "
                           "[controller.tls] ca, cert and key",
                           *path, std::strerror(errno)));
    return;
  }
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
    for (auto [key, path] : {std::pair{"ca", &c->tls.ca}, std::pair{"cert", &c->tls.cert},
                             std::pair{"key", &c->tls.key}}) {
      if (!path->empty() && ::access(path->c_str(), R_OK) != 0) {
        tls->MachineProblemAt(key, fmt::format("cannot read {}: {}", *path, std::strerror(errno)));
      }
    }
  } else {
    CheckDefaultTls(t, c->tls);
  }
  if (auto d = ReadPath(t, "metrics_dir", Need::kOptional, config_path, true)) {
    c->metrics_dir = *d;
  }
  if (auto argv = ReadArgv(t, "on_failure", Need::kOptional)) c->on_failure = *argv;
  if (auto d = t.DurationValue("on_failure_timeout", Duration(1'000))) c->on_failure_timeout = *d;
  t.RejectUnknownKeys();
}

void ReadPrimary(TableReader& t, PrimaryConfig* p) {
  if (auto n = ReadName(t, "name")) p->name = *n;
  if (auto a = ReadEndpoint(t, "agent", kDefaultAgentPort, Need::kRequired)) p->agent = *a;
  p->agent_name = t.String("agent_name").value_or(p->name);
  if (auto m = t.Integer("max_sessions", 1, 16)) p->max_sessions = static_cast<int>(*m);
  if (auto m = t.Integer("max_requests", 1, 10000)) p->max_requests = static_cast<int>(*m);
  if (auto b = t.Bool("required_for_drill")) p->required_for_drill = *b;
  if (auto b = t.Bool("required_for_prep")) p->required_for_prep = *b;
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

std::string StandbyDigest(const TableReader& standby, const std::optional<TableReader>& primary) {
  std::string text = fmt::format("[standby]\n{}\n[primary]\n{}\n",
                                 standby.Canonical({"rto_target", "rpo_target", "verify_within"}),
                                 primary ? primary->Canonical() : "");
  sync::Sha256 sha;
  sha.Update(text.data(), text.size());
  return sha.HexDigest();
}

void ReadConfig(TableReader root, Config* config) {
  const std::string& path = config->path;
  if (auto c = root.Table("controller")) ReadController(*c, path, &config->controller);
  std::optional<TableReader> primary = root.Table("primary");
  if (primary) ReadPrimary(*primary, &config->primary.emplace());

  std::vector<TableReader> standbys = root.TableArray("standby", Need::kRequired);
  for (TableReader& s : standbys) ReadStandby(s, path, &config->standbys.emplace_back());
  CheckUnique(standbys, config->standbys, "standby");
  for (size_t i = 0; i < standbys.size(); ++i) {
    config->standbys[i].digest = StandbyDigest(standbys[i], primary);
  }
  for (size_t i = 0; i < standbys.size(); ++i) {
    if (!config->standbys[i].probes.empty() && !config->primary) {
      standbys[i].ErrorAt("probe",
                          "performance probes compare with the primary; add a "
                          "[primary] section");
    }
    for (const SmokeCheck& c : config->standbys[i].checks) {
      if (c.kind == CheckKind::kHttp && c.http.same_as_primary && !config->primary) {
        standbys[i].ErrorAt("check", fmt::format("check {}: same_as_primary compares with the "
                                                 "primary; add a [primary] section",
                                                 c.name));
      }
    }
  }

  std::vector<TableReader> schedules = root.TableArray("schedule");
  for (TableReader& s : schedules) ReadSchedule(s, *config, &config->schedules.emplace_back());
  CheckUnique(schedules, config->schedules, "schedule");
  root.RejectUnknownKeys();
}

base::Result<Config> ReadFile(base::ConfigFile& file, const std::string& path) {
  base::Result<Config> config = base::ReadWholeConfig<Config>(file, path, ReadConfig);
  if (config.ok()) {
    for (const base::ConfigError& e : file.errors().MachineProblems()) {
      config->machine_problems.push_back(e.ToString());
    }
  }
  return config;
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
  return ReadFile(file, path);
}

base::Result<Config> ParseConfig(std::string_view text, const std::string& path) {
  base::ConfigFile file = base::ConfigFile::Parse(text, path);
  return ReadFile(file, path);
}

bool PowerStateFromBmc(PowerDriverKind kind) {
  return kind == PowerDriverKind::kIpmi || kind == PowerDriverKind::kRedfish;
}

std::string_view PowerDriverName(PowerDriverKind kind) {
  switch (kind) {
    case PowerDriverKind::kIpmi:
      return "ipmi";
    case PowerDriverKind::kRedfish:
      return "redfish";
    case PowerDriverKind::kWol:
      return "wol";
    case PowerDriverKind::kCommand:
      return "command";
  }
  return "unknown";
}

std::string_view CheckKindName(CheckKind kind) {
  switch (kind) {
    case CheckKind::kHttp:
      return "http";
    case CheckKind::kTcp:
      return "tcp";
    case CheckKind::kTls:
      return "tls";
    case CheckKind::kDns:
      return "dns";
    case CheckKind::kCommand:
      return "command";
    case CheckKind::kFile:
      return "file";
    case CheckKind::kCanary:
      return "canary";
  }
  return "unknown";
}

std::string RegexError(const std::string& pattern) {
  RE2 re(pattern, RE2::Quiet);
  return re.ok() ? std::string() : re.error();
}

}  // namespace sb::config
