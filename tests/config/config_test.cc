// Tests of the controller's configuration: every bad input names the place
// (FILE:LINE:COL) and says what is wrong; good input yields the values.

#include "standby/config/config.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace sb::config {
namespace {

using sb::testing::TempDir;

// A standby that is valid on its own; cases add to it or break it.
constexpr const char* kPower =
    R"(power = { driver = "command", on = ["true"], off = ["true"], status = ["true"] })";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

struct BadCase {
  const char* what;
  const char* toml;      // @DIR@ is the test's temp dir, @POWER@ is kPower
  const char* expected;  // the first error, after "FILE:"
};

// Each row: one mistake a user could make, and the exact first line that
// `config check` must print for it.
const BadCase kBadCases[] = {
    {"syntax error", "[[standby]]\nname = \"s1\nagent = \"x\"\n",
     "2:11: syntax error: Error while parsing string: unescaped control characters other than TAB "
     "(U+0009) are explicitly prohibited (is a closing quote missing?)"},
    {"unknown top-level table",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[controler]\nstate_dir = \"/x\"\n",
     "5:2: unknown key \"controler\" (did you mean \"controller\"?)"},
    {"unknown key in a standby",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\nmax_exposre = \"45m\"\n",
     "5:1: [standby[0]]: unknown key \"max_exposre\" (did you mean \"max_exposure\"?)"},
    {"unknown key in power",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\n"
     "host = \"bmc\"\nusername = \"u\"\npassword_env = \"P\"\nretires = 3\n",
     "9:1: [standby[0].power]: unknown key \"retires\" (did you mean \"retries\"?)"},
    {"duration given as a number",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\nmax_exposure = 45\n",
     "5:16: standby[0].max_exposure: expected a duration string like \"45m\", got integer"},
    {"negative duration", "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\nlease = \"-5m\"\n",
     "5:9: standby[0].lease: duration \"-5m\" is negative"},
    {"duration without a unit",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\nboot_timeout = \"10\"\n",
     "5:16: standby[0].boot_timeout: duration \"10\" has a number without a unit (ms, s, m, h, "
     "d)"},
    {"duration with an unknown unit",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\nboot_timeout = \"10y\"\n",
     "5:16: standby[0].boot_timeout: duration \"10y\" has unknown unit \"y\" (use ms, s, m, h or "
     "d)"},
    {"duration below its minimum",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\nmax_exposure = \"10s\"\n",
     "5:16: standby[0].max_exposure: 10s is too short; the minimum is 1m"},
    {"lease not shorter than max_exposure",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\nmax_exposure = \"5m\"\nlease = "
     "\"5m\"\n",
     "6:9: standby[0].lease: the lease (5m) must be shorter than max_exposure (5m)"},
    {"an empty state_dir",
     "[controller]\nstate_dir = \"\"\n[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n",
     "2:13: controller.state_dir: must not be empty"},
    {"a state_dir that is a file",
     "[controller]\nstate_dir = \"/etc/passwd\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n",
     "2:13: controller.state_dir: /etc/passwd exists and is not a directory"},
    {"a state_dir below a file",
     "[controller]\nstate_dir = \"/etc/passwd/state\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n",
     "2:13: controller.state_dir: /etc/passwd/state cannot be made: /etc/passwd is not a "
     "directory"},
    {"a state_dir in /proc",
     "[controller]\nstate_dir = \"/proc/sys\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n",
     "2:13: controller.state_dir: /proc/sys is on a kernel pseudo-filesystem (/proc/sys), not a "
     "place to keep state"},
    {"a state_dir in /sys",
     "[controller]\nstate_dir = \"/sys/kernel/standbyctl\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n",
     "2:13: controller.state_dir: /sys/kernel/standbyctl is on a kernel pseudo-filesystem "
     "(/sys/kernel), not a place to keep state"},
    {"a target that climbs out",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv/t1/../../outside\"\n",
     "7:10: standby[0].restore[0].target: \"/srv/t1/../../outside\": path climbs out with "
     "\"..\" (the agent takes only an absolute, normalized path)"},
    {"a target not normalized",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv//www/./x\"\n",
     "7:10: standby[0].restore[0].target: \"/srv//www/./x\": path is not normalized (the agent "
     "takes only an absolute, normalized path)"},
    {"no standby at all", "[controller]\nstate_dir = \"/x\"\n",
     "1:1: top level: missing required key \"standby\""},
    {"standby as a table, not an array of tables", "[standby]\nname = \"s1\"\n",
     "1:1: standby: expected an array of tables ([[standby]]), got "
     "table"},
    {"standby without a name", "[[standby]]\nagent = \"h\"\n@POWER@\n",
     "1:1: [standby[0]]: missing required key \"name\""},
    {"name of the wrong type", "[[standby]]\nname = 5\nagent = \"h\"\n@POWER@\n",
     "2:8: standby[0].name: expected a string, got integer"},
    {"name with a space", "[[standby]]\nname = \"web 1\"\nagent = \"h\"\n@POWER@\n",
     "2:8: standby[0].name: \"web 1\" is not a valid name (use letters, digits, '.', '_' and '-', "
     "at most 64)"},
    {"two standbys with one name",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h2\"\n@POWER@\n",
     "6:8: standby[1].name: duplicate standby name \"s1\""},
    {"agent port out of range", "[[standby]]\nname = \"s1\"\nagent = \"h:99999\"\n@POWER@\n",
     "3:9: standby[0].agent: \"h:99999\": port \"99999\" is not a number from 1 to 65535"},
    {"IPv6 agent without brackets",
     "[[standby]]\nname = \"s1\"\nagent = \"fd00::7:7443\"\n@POWER@\n",
     "3:9: standby[0].agent: \"fd00::7:7443\": write IPv6 addresses in brackets, like "
     "\"[::1]:7443\""},
    {"standby without power", "[[standby]]\nname = \"s1\"\nagent = \"h\"\n",
     "1:1: [standby[0]]: missing required key \"power\""},
    {"unknown power driver",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\npower = { driver = \"ilo\" }\n",
     "4:20: standby[0].power.driver: unknown power driver \"ilo\" (use ipmi, redfish, wol or "
     "command)"},
    {"Redfish key pin not in libcurl's form",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"redfish\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_env = \"P\"\npinned_public_key = \"AB:CD:EF\"\n",
     "9:21: standby[0].power.pinned_public_key: expected \"sha256//\" and the base64 SHA-256 of "
     "the "
     "BMC's public key (see the README: Power control)"},
    {"Redfish ca_file with tls_verify = false",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"redfish\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_env = \"P\"\nca_file = \"@DIR@/good.pass\"\n"
     "tls_verify = false\n",
     "9:11: standby[0].power.ca_file: ca_file has no use with tls_verify = false"},
    {"Redfish system id that is a path",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"redfish\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_env = \"P\"\nsystem_id = \"Systems/1\"\n",
     "9:13: standby[0].power.system_id: \"Systems/1\" is not a system id like \"1\" or "
     "\"System.Embedded.1\""},
    {"command power with an empty program",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\npower = { driver = \"command\", on = [\"\"], off "
     "= [\"x\"], status = [\"x\"] }\n",
     "4:36: standby[0].power.on: the program name (first element) is empty"},
    {"command power argv with a number",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\npower = { driver = \"command\", on = [\"virsh\", "
     "3], off = [\"x\"], status = [\"x\"] }\n",
     "4:46: standby[0].power.on[1]: expected a string, got integer"},
    {"password written in the config",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword = \"hunter2\"\n",
     "8:12: standby[0].power.password: secrets are not accepted in the config text; put it in a "
     "file readable only by its owner and name it with password_file, or name an environment "
     "variable with password_env"},
    {"IPMI without any password",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\n",
     "4:1: [standby[0].power]: missing password_file or password_env"},
    {"world-readable password file",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_file = \"@DIR@/loose.pass\"\n",
     "8:17: standby[0].power.password_file: password file @DIR@/loose.pass is accessible by "
     "group or others (mode 0644); run: chmod 600 @DIR@/loose.pass"},
    {"password file that does not exist",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_file = \"@DIR@/missing.pass\"\n",
     "8:17: standby[0].power.password_file: cannot read password file @DIR@/missing.pass: No "
     "such file or directory"},
    {"password file that is a directory",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_file = \"@DIR@\"\n",
     "8:17: standby[0].power.password_file: password file @DIR@ is not a regular file"},
    {"empty password file",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_file = \"@DIR@/empty.pass\"\n",
     "8:17: standby[0].power.password_file: password file @DIR@/empty.pass is empty"},
    {"password file and variable both",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_file = \"@DIR@/good.pass\"\npassword_env = \"P\"\n",
     "9:16: standby[0].power.password_env: give either password_file or password_env, not both"},
    {"bad environment variable name",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_env = \"1BAD-NAME\"\n",
     "8:16: standby[0].power.password_env: \"1BAD-NAME\" is not a valid environment variable "
     "name"},
    {"IPMI cipher suite that does not exist",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n[standby.power]\ndriver = \"ipmi\"\nhost = "
     "\"bmc\"\nusername = \"u\"\npassword_env = \"P\"\ncipher_suite = 5\n",
     "9:16: standby[0].power.cipher_suite: expected \"auto\", 17 (HMAC-SHA256) or 3 (HMAC-SHA1)"},
    {"Wake-on-LAN with a bad MAC",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\npower = { driver = \"wol\", mac = "
     "\"52:54:00:12:34\" }\n",
     "4:33: standby[0].power.mac: \"52:54:00:12:34\" is not a MAC address like "
     "\"52:54:00:12:34:56\""},
    {"Wake-on-LAN to a host name",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\npower = { driver = \"wol\", mac = "
     "\"52:54:00:12:34:56\", broadcast = \"lan\" }\n",
     "4:66: standby[0].power.broadcast: \"lan\" is not an IPv4 address"},
    {"relative restore target",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"srv/www\"\n",
     "7:10: standby[0].restore[0].target: \"srv/www\" must be an absolute path"},
    {"restore into the root directory",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/\"\n",
     "7:10: standby[0].restore[0].target: the target must not be the root directory"},
    {"overlapping restore targets",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\n[[standby.restore]]\nsource = \"/c\"\ntarget = \"/srv/www\"\n",
     "10:10: standby[0].restore[1].target: target /srv/www overlaps the target /srv of restore "
     "[standby[0].restore[0]]; targets must be disjoint"},
    {"canary outside the source",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\ncanary = \"../etc/x\"\n",
     "8:10: standby[0].restore[0].canary: must be a path relative to the source, without \"..\""},
    {"size with an unknown unit",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nkeep_free = \"2 gigs\"\n",
     "8:13: standby[0].restore[0].keep_free: size \"2 gigs\" has unknown unit \"gigs\" (use B, "
     "KiB, MiB, GiB, TiB, kB, MB, GB or TB)"},
    {"negative size",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nkeep_free = -1\n",
     "8:13: standby[0].restore[0].keep_free: size -1 is negative"},
    {"max_delete over 100%",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nmax_delete = \"150%\"\n",
     "8:14: standby[0].restore[0].max_delete: must be a count of entries (such as 1000) or a "
     "percentage of the target's entries (such as \"25%\")"},
    {"max_delete negative",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nmax_delete = -5\n",
     "8:14: standby[0].restore[0].max_delete: must be a count of entries (such as 1000) or a "
     "percentage of the target's entries (such as \"25%\")"},
    {"max_delete neither count nor percentage",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nmax_delete = \"half\"\n",
     "8:14: standby[0].restore[0].max_delete: must be a count of entries (such as 1000) or a "
     "percentage of the target's entries (such as \"25%\")"},
    {"unknown on_corrupt",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\non_corrupt = \"ignore\"\n",
     "8:14: standby[0].restore[0].on_corrupt: unknown on_corrupt \"ignore\" (use fail or warn)"},
    {"verify_every negative",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nverify_every = -1\n",
     "8:16: standby[0].restore[0].verify_every: -1 is out of range; expected 0 to 1000"},
    {"verify_budget of nothing",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nverify_budget = 0\n",
     "8:17: standby[0].restore[0].verify_budget: 0 B is too small; the minimum is 1.0 MiB"},
    {"unknown owners policy",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nowners = \"names\"\n",
     "8:10: standby[0].restore[0].owners: unknown owners \"names\" (use numeric or none)"},
    {"uid map with a name",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nuid_map = { www = 33 }\n",
     "8:11: standby[0].restore[0].uid_map: \"www\": ids must be numbers from 0 to 4294967294"},
    {"uid map to a negative id",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nuid_map = { \"1000\" = -1 }\n",
     "8:11: standby[0].restore[0].uid_map: \"1000\": ids must be numbers from 0 to 4294967294"},
    {"id maps without numeric owners",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\nowners = \"none\"\ngid_map = { \"5\" = 6 }\n",
     "5:1: [standby[0].restore[0]]: uid_map and gid_map need owners = \"numeric\""},
    {"gid map that is not a table",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.restore]]\nsource = "
     "\"/b\"\ntarget = \"/srv\"\ngid_map = 33\n",
     "8:11: standby[0].restore[0].gid_map: must be a table of numeric ids, such as { \"1000\" = "
     "2001 }"},
    {"unknown check kind",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = "
     "\"c\"\nkind = \"ping\"\n",
     "7:8: standby[0].check[0].kind: unknown check kind \"ping\" (use http, tcp, tls, dns, "
     "command, file or canary)"},
    {"body regex that does not compile",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"http://h/\"\nbody_regex = \"(unclosed\"\n",
     "9:14: standby[0].check[0].body_regex: not a valid regular expression (RE2 syntax): missing "
     "): "
     "(unclosed"},
    {"header regex that does not compile",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"http://h/\"\nheader_regex = { Server = \"[z-a]\" }\n",
     "9:16: standby[0].check[0].header_regex: \"Server\": not a valid regular expression (RE2 "
     "syntax): invalid character class range: z-a"},
    {"status range upside down",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"http://h/\"\nvalid_status = [200, \"399-300\"]\n",
     "9:16: standby[0].check[0].valid_status: 399-300 is out of range: use a list of statuses (100 "
     "to 599) and ranges such as [200, \"300-399\"]"},
    {"expect_status and valid_status together",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"http://h/\"\nexpect_status = 200\nvalid_status = [204]\n",
     "10:16: standby[0].check[0].valid_status: give either expect_status or valid_status, not "
     "both"},
    {"CA file that is not there",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"https://h/\"\nca_file = \"/nonexistent/ca.pem\"\n",
     "9:11: standby[0].check[0].ca_file: cannot read /nonexistent/ca.pem: No such file or "
     "directory"},
    {"same_as_primary on a fixed URL",
     "[primary]\nname = \"p\"\nagent = \"a\"\n"
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = "
     "\"http://h/\"\nsame_as_primary = true\n",
     "12:19: standby[0].check[0].same_as_primary: same_as_primary needs a url with {host} (where "
     "the primary's address goes)"},
    {"same_as_primary without a primary",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"http://{host}/\"\nsame_as_primary = true\n",
     "5:1: standby[0].check: check c: same_as_primary compares with the primary; add a [primary] "
     "section"},
    {"tcp address without a port",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"tcp\"\naddress = \"{host}\"\n",
     "8:11: standby[0].check[0].address: \"{host}\" is not host:port (the host may be {host})"},
    {"tls check that names nothing",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"tls\"\naddress = \"{host}:443\"\nnames = []\n",
     "9:9: standby[0].check[0].names: must not be empty"},
    {"tls version unknown",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"tls\"\naddress = \"{host}:443\"\nnames = [\"a.example\"]\nmin_version = "
     "\"SSLv3\"\n",
     "10:15: standby[0].check[0].min_version: \"SSLv3\": use TLSv1.2 or TLSv1.3"},
    {"dns record type unknown",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"dns\"\nnames = [\"www.example.com\"]\ntype = \"MX\"\n",
     "9:8: standby[0].check[0].type: unknown record type \"MX\" (use A, AAAA or CNAME)"},
    {"dns name that is not one",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"dns\"\nnames = [\"www..example.com\"]\n",
     "8:9: standby[0].check[0].names: \"www..example.com\" is not a host name"},
    {"a warm-up longer than smoke_timeout",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"command\"\ncommand = \"x\"\nwarmup = \"6m\"\n",
     "9:10: standby[0].check[0].warmup: a warm-up of 6m never ends within the smoke_timeout of "
     "5m: the check could never run"},
    {"a client certificate without its key",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"https://h/\"\nclient_cert = \"/etc/hostname\"\n",
     "5:1: [standby[0].check[0]]: client_cert and client_key go together: give both or neither"},
    {"dns with both a server and a resolver",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"dns\"\nnames = [\"www.example.com\"]\nserver = \"192.0.2.1:53\"\n"
     "resolver = \"192.0.2.2:53\"\n",
     "10:12: standby[0].check[0].resolver: the resolver finds the zone's servers: give it or "
     "server, not both"},
    {"a GET with a body",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"http\"\nurl = \"http://h/\"\nbody = \"x=1\"\n",
     "9:8: standby[0].check[0].body: a GET request has no body: set method = \"POST\" or "
     "\"PUT\""},
    {"dns expecting a name in an A record",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"dns\"\nnames = [\"www.example.com\"]\nexpect = [\"web1.example.com\"]\n",
     "9:10: standby[0].check[0].expect: \"web1.example.com\" cannot be an answer of type A"},
    {"file hash that is not one",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"file\"\npath = \"/srv/www/index.html\"\nsha256 = \"abc\"\n",
     "9:10: standby[0].check[0].sha256: must be 64 lowercase hexadecimal digits"},
    {"file path that is relative",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"file\"\npath = \"www/index.html\"\n",
     "8:8: standby[0].check[0].path: \"www/index.html\" must be an absolute, normalized path"},
    {"canary check without a canary",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"canary\"\n",
     "5:1: [standby[0].check[0]]: a canary check needs a [[standby.restore]] with a canary"},
    {"command output regex that does not compile",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"command\"\ncommand = \"x\"\noutput_regex = \"a{2,1}\"\n",
     "9:16: standby[0].check[0].output_regex: not a valid regular expression (RE2 syntax): "
     "invalid repetition size: {2,1}"},
    {"http check with an ftp URL",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = "
     "\"c\"\nkind = \"http\"\nurl = \"ftp://h/\"\n",
     "8:7: standby[0].check[0].url: \"ftp://h/\" is not an http:// or https:// URL"},
    {"HTTP status out of range",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = "
     "\"c\"\nkind = \"http\"\nurl = \"http://h/\"\nexpect_status = 700\n",
     "9:17: standby[0].check[0].expect_status: 700 is out of range; expected 100 to 599"},
    {"two checks with one name",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = "
     "\"c\"\nkind = \"command\"\ncommand = \"x\"\n[[standby.check]]\nname = \"c\"\nkind = "
     "\"command\"\ncommand = \"y\"\n",
     "10:8: standby[0].check[1].name: duplicate check name \"c\""},
    {"a check that can never run",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.check]]\nname = "
     "\"c\"\nkind = \"command\"\n",
     "5:1: [standby[0].check[0]]: missing required key \"command\""},
    {"probe without a primary",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[standby.probe]]\nname = "
     "\"p\"\nprimary_url = \"http://a/\"\nstandby_url = \"http://b/\"\n",
     "5:1: standby[0].probe: performance probes compare with the primary; add a [primary] "
     "section"},
    {"probe load above its bound",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nprimary_url = \"http://a/\"\nstandby_url "
     "= \"http://b/\"\nrequests = 5000\n",
     "12:12: standby[0].probe[0].requests: 5000 is out of range; expected 1 to 1000"},
    {"probe slower_ratio below its bound",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nprimary_url = \"http://a/\"\nstandby_url = "
     "\"http://b/\"\nslower_ratio = 1.01\n",
     "12:16: standby[0].probe[0].slower_ratio: must be a number from 1.05 to 100 (such as 1.5)"},
    {"probe noise band that is not a percentage",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nprimary_url = \"http://a/\"\nstandby_url = "
     "\"http://b/\"\nnoise_band = \"0.1\"\n",
     "12:14: standby[0].probe[0].noise_band: \"0.1\": use a percentage from 1% to 50% (such as "
     "\"10%\")"},
    {"probe noise band wider than the threshold",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nprimary_url = \"http://a/\"\nstandby_url = "
     "\"http://b/\"\nnoise_band = \"30%\"\nslower_ratio = 1.2\n",
     "8:1: [standby[0].probe[0]]: noise_band must be narrower than slower_ratio is above 1"},
    {"probe on_slower unknown",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nprimary_url = \"http://a/\"\nstandby_url = "
     "\"http://b/\"\non_slower = \"page\"\n",
     "12:13: standby[0].probe[0].on_slower: unknown on_slower \"page\" (use warn or fail)"},
    {"probe of an unknown kind",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nkind = \"ping\"\n",
     "10:8: standby[0].probe[0].kind: unknown probe kind \"ping\" (use http or command)"},
    {"command probe with a URL",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nkind = \"command\"\ncommand = "
     "\"q\"\nprimary_url = \"http://a/\"\n",
     "12:15: standby[0].probe[0].primary_url: a command probe has no URL: it runs `command` on "
     "both agents"},
    {"command probe without its command",
     "[primary]\nname = \"p\"\nagent = \"a\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n[[standby.probe]]\nname = \"p\"\nkind = \"command\"\n",
     "8:1: [standby[0].probe[0]]: missing required key \"command\""},
    {"primary max_requests out of range",
     "[primary]\nname = \"p\"\nagent = \"a\"\nmax_requests = 0\n[[standby]]\nname = "
     "\"s1\"\nagent = \"h\"\n@POWER@\n",
     "4:16: primary.max_requests: 0 is out of range; expected 1 to 10000"},
    {"schedule for a standby that does not exist",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[schedule]]\nname = "
     "\"m\"\nstandby = \"s2\"\ncron = \"@monthly\"\n",
     "7:11: schedule[0].standby: no [[standby]] is named \"s2\""},
    {"cron hour out of range",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[schedule]]\nname = "
     "\"m\"\nstandby = \"s1\"\ncron = \"0 25 1 * *\"\n",
     "8:8: schedule[0].cron: hour: 25 is out of range 0-23"},
    {"cron with four fields",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[schedule]]\nname = "
     "\"m\"\nstandby = \"s1\"\ncron = \"0 3 * *\"\n",
     "8:8: schedule[0].cron: \"0 3 * *\" has 4 fields; expected 5 (minute hour day-of-month "
     "month day-of-week)"},
    {"unknown cron macro",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[schedule]]\nname = "
     "\"m\"\nstandby = \"s1\"\ncron = \"@fortnightly\"\n",
     "8:8: schedule[0].cron: unknown schedule \"@fortnightly\" (use @yearly, @monthly, @weekly, "
     "@daily, @hourly or five cron fields)"},
    {"cron that never fires",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[schedule]]\nname = "
     "\"m\"\nstandby = \"s1\"\ncron = \"0 0 31 2 *\"\n",
     "8:8: schedule[0].cron: \"0 0 31 2 *\" names a day that never comes (such as 31 February)"},
    {"on_failure with an empty program name",
     "[controller]\non_failure = [\"\"]\n[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n",
     "2:14: controller.on_failure: the program name (first element) is empty"},
    {"on_failure_timeout under a second",
     "[controller]\non_failure_timeout = \"0s\"\n[[standby]]\nname = \"s1\"\nagent = "
     "\"h\"\n@POWER@\n",
     "2:22: controller.on_failure_timeout: 0ms is too short; the minimum is 1s"},
    {"rto_target under a second",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\nrto_target = \"500ms\"\n@POWER@\n",
     "4:14: standby[0].rto_target: 500ms is too short; the minimum is 1s"},
    {"unknown time zone",
     "[[standby]]\nname = \"s1\"\nagent = \"h\"\n@POWER@\n[[schedule]]\nname = "
     "\"m\"\nstandby = \"s1\"\ncron = \"@daily\"\ntimezone = \"Mars/Olympus\"\n",
     "9:12: schedule[0].timezone: unknown time zone \"Mars/Olympus\" (use a name from "
     "/usr/share/zoneinfo, like \"Europe/Berlin\", or \"UTC\")"},
};

TEST_CASE("config: each bad input is reported at its place with a clear message", "[config]") {
  TempDir dir;
  dir.Write("loose.pass", "secret\n", 0644);
  dir.Write("empty.pass", "", 0600);
  dir.Write("good.pass", "secret\n", 0600);
  const std::string file = dir.Sub("standbyctl.toml");
  for (const BadCase& c : kBadCases) {
    SECTION(c.what) {
      std::string text = Replace(Replace(c.toml, "@POWER@", kPower), "@DIR@", dir.path());
      base::Result<Config> config = ParseConfig(text, file);
      REQUIRE_FALSE(config.ok());
      CHECK(config.status().code() == base::Code::kInvalidArgument);
      std::string first = config.status().message().substr(0, config.status().message().find('\n'));
      CHECK(first == file + ":" + Replace(c.expected, "@DIR@", dir.path()));
    }
  }
}

TEST_CASE("config: the table of bad inputs has at least 25 rows", "[config]") {
  CHECK(std::size(kBadCases) >= 25);
}

TEST_CASE("config: a file that cannot be read names the file and the reason", "[config]") {
  TempDir dir;
  base::Result<Config> config = LoadConfig(dir.Sub("nope.toml"));
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().message() ==
        dir.Sub("nope.toml") + ": cannot read config: No such file or directory");
}

TEST_CASE("config: every error in a file is reported, in file order", "[config]") {
  base::Result<Config> config = ParseConfig(
      "[[standby]]\nname = \"s1\"\nagent = \"h:0\"\nbogus = 1\n"
      "power = { driver = \"command\", on = [\"x\"], off = [\"x\"], status = [\"x\"] }\n"
      "lease = \"soon\"\n",
      "c.toml");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().message() ==
        "c.toml:3:9: standby[0].agent: \"h:0\": port \"0\" is not a number from 1 to 65535\n"
        "c.toml:4:1: [standby[0]]: unknown key \"bogus\"\n"
        "c.toml:6:9: standby[0].lease: bad duration \"soon\"; expected a duration like \"30s\", "
        "\"45m\" or \"1h30m\"");
}

TEST_CASE("config: a valid file yields its values and the defaults", "[config]") {
  TempDir dir;
  std::string pass = dir.Write("bmc.pass", "secret\n", 0600);
  base::Result<Config> config = ParseConfig(
      "[controller]\nstate_dir = \"state\"\n"
      "[[standby]]\nname = \"web1-standby\"\nagent = \"127.0.0.3\"\nmax_exposure = \"1h30m\"\n"
      "[standby.power]\ndriver = \"ipmi\"\nhost = \"127.0.0.1:9623\"\nusername = \"admin\"\n"
      "password_file = \"bmc.pass\"\ncipher_suite = 3\n"
      "[[standby.restore]]\nsource = \"/backups/web\"\ntarget = \"/srv/www/\"\n"
      "keep_free = \"2GiB\"\nuid_map = { \"1000\" = 2001, \"0\" = 0 }\nmax_delete = \"10%\"\n"
      "[[standby.restore]]\nsource = \"/backups/db\"\ntarget = \"/srv/db\"\nmax_delete = 250\n"
      "verify_every = 3\nverify_budget = \"100MiB\"\non_corrupt = \"warn\"\n"
      "[[standby.restore]]\nsource = \"/backups/etc\"\ntarget = \"/srv/etc\"\n"
      "[[schedule]]\nname = \"monthly\"\nstandby = \"web1-standby\"\ncron = \"@monthly\"\n",
      dir.Sub("standbyctl.toml"));
  REQUIRE(config.ok());
  CHECK(config->controller.state_dir == dir.Sub("state"));
  CHECK(config->controller.tls.ca == "/etc/standbyctl/pki/ca.crt");
  REQUIRE(config->standbys.size() == 1);
  const StandbyConfig& s = config->standbys[0];
  CHECK(s.agent == base::Endpoint{"127.0.0.3", kDefaultAgentPort});
  CHECK(s.agent_name == "web1-standby");
  CHECK(s.max_exposure == std::chrono::minutes(90));
  CHECK(s.lease == std::chrono::minutes(2));
  CHECK(s.power.driver == PowerDriverKind::kIpmi);
  CHECK(s.power.ipmi.bmc == base::Endpoint{"127.0.0.1", 9623});
  CHECK(s.power.ipmi.cipher_suite == IpmiCipherSuite::kSuite3);
  CHECK(s.power.ipmi.password.kind == SecretRef::Kind::kFile);
  CHECK(s.power.ipmi.password.name == pass);
  REQUIRE(s.restores.size() == 3);
  // A Redfish BMC: port 443 by default, verified, the only system.
  base::Result<Config> redfish = ParseConfig(
      "[controller]\nstate_dir = \"state\"\n"
      "[[standby]]\nname = \"s\"\nagent = \"127.0.0.3\"\n"
      "[standby.power]\ndriver = \"redfish\"\nhost = \"idrac.example\"\nusername = \"drill\"\n"
      "password_file = \"bmc.pass\"\n"
      "pinned_public_key = \"sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=\"\n"
      "system_id = \"System.Embedded.1\"\nretries = 5\n",
      dir.Sub("standbyctl.toml"));
  REQUIRE(redfish.ok());
  const config::RedfishPower& r = redfish->standbys[0].power.redfish;
  CHECK(redfish->standbys[0].power.driver == PowerDriverKind::kRedfish);
  CHECK(r.bmc == base::Endpoint{"idrac.example", 443});
  CHECK(r.tls_verify);
  CHECK(r.ca_file.empty());
  CHECK(r.pinned_public_key == "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=");
  CHECK(r.system_id == "System.Embedded.1");
  CHECK(r.retries == 5);
  CHECK(r.timeout == std::chrono::seconds(10));
  CHECK(s.restores[0].target == "/srv/www");
  CHECK(s.restores[0].max_delete.ToString() == "10%");
  CHECK(s.restores[0].max_delete.Allowed(1000) == 100);
  CHECK(s.restores[1].max_delete.ToString() == "250");
  CHECK(s.restores[1].max_delete.Allowed(10) == 250);
  CHECK(s.restores[2].max_delete.ToString() == "50%");  // the default
  CHECK(s.restores[2].max_delete.Allowed(9) == 4);
  CHECK(s.restores[0].keep_free == (uint64_t{2} << 30));
  CHECK(s.restores[0].set_owners);
  CHECK(s.restores[0].uid_map == std::map<int64_t, int64_t>{{0, 0}, {1000, 2001}});
  CHECK(s.restores[0].gid_map.empty());
  // Re-reads: every file once every 12 restores, 2 GiB a restore, corruption fails.
  CHECK(s.restores[0].verify_every == 12);
  CHECK(s.restores[0].verify_budget == (uint64_t{2} << 30));
  CHECK(s.restores[0].fail_on_corrupt);
  CHECK(s.restores[1].verify_every == 3);
  CHECK(s.restores[1].verify_budget == (uint64_t{100} << 20));
  CHECK_FALSE(s.restores[1].fail_on_corrupt);
  REQUIRE(config->schedules.size() == 1);
  CHECK(config->schedules[0].timezone == "UTC");
  CHECK(config->schedules[0].grace == std::chrono::hours(24));
  CHECK(config->FindStandby("web1-standby") == &s);
  CHECK(config->FindStandby("other") == nullptr);
}

}  // namespace
}  // namespace sb::config

namespace sb::config {
namespace {

TEST_CASE("config: report targets are read and kept out of the standby's digest", "[config]") {
  const std::string base =
      "[primary]\nname = \"web1\"\nagent = \"127.0.0.2\"\n"
      "[[standby]]\nname = \"s1\"\nagent = \"127.0.0.3\"\n@POWER@\n";
  auto digest = [](const std::string& text) {
    base::Result<Config> c = ParseConfig(Replace(text, "@POWER@", kPower), "c.toml");
    INFO(c.status().message());
    REQUIRE(c.ok());
    return c->standbys[0].digest;
  };
  const std::string d = digest(base);
  CHECK(d.size() == 64);
  // Layout, comments and key order do not change what the standby does.
  CHECK(digest("# a comment\n[primary]\nagent = \"127.0.0.2\"   # here\nname = \"web1\"\n"
               "[[standby]]\nagent = \"127.0.0.3\"\nname = \"s1\"\n@POWER@\n") == d);
  // The report's targets are not the drill's configuration.
  CHECK(digest(base + "rto_target = \"15m\"\nrpo_target = \"1d\"\nverify_within = \"8d\"\n") == d);
  // What the drill does, and the primary it compares with, are.
  CHECK(digest(base + "boot_timeout = \"5m\"\n") != d);
  CHECK(digest(Replace(base, "127.0.0.2", "127.0.0.9")) != d);

  base::Result<Config> c = ParseConfig(
      Replace(base + "rto_target = \"15m\"\nrpo_target = \"1d\"\nverify_within = \"8d\"\n",
              "@POWER@", kPower),
      "c.toml");
  REQUIRE(c.ok());
  CHECK(c->standbys[0].rto_target == std::chrono::minutes(15));
  CHECK(c->standbys[0].rpo_target == std::chrono::hours(24));
  CHECK(c->standbys[0].verify_within == std::chrono::hours(8 * 24));
  base::Result<Config> defaults = ParseConfig(Replace(base, "@POWER@", kPower), "c.toml");
  REQUIRE(defaults.ok());
  CHECK_FALSE(defaults->standbys[0].rto_target);
  CHECK(defaults->standbys[0].verify_within == std::chrono::hours(35 * 24));

  base::Result<Config> bad = ParseConfig(
      Replace(base + "verify_within = \"10m\"\nrto_target = \"soon\"\n", "@POWER@", kPower),
      "c.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("c.toml:8:17: standby[0].verify_within:") == 0);
  CHECK(bad.status().message().find("c.toml:9:14: standby[0].rto_target: bad duration \"soon\"") !=
        std::string::npos);
}

}  // namespace
}  // namespace sb::config
