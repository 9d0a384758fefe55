#include "agent/server/agent_config.h"

#include <catch2/catch.hpp>

namespace sb::agent {
namespace {

constexpr const char* kTls = "[tls]\nca = \"ca.crt\"\ncert = \"a.crt\"\nkey = \"a.key\"\n";

TEST_CASE("agent config: a standby config yields its values", "[agent_config]") {
  base::Result<AgentConfig> c = ParseAgentConfig(
      std::string("listen = \"127.0.0.3\"\nrole = \"standby\"\nshutdown = [\"/sbin/poweroff\"]\n"
                  "data_roots = [\"/srv/www\"]\n") +
          kTls +
          "[[command]]\nname = \"check\"\nargv = [\"/usr/bin/true\"]\ntimeout = \"5s\"\n"
          "[limits]\nidle_timeout = \"30s\"\nmax_frame = \"1MiB\"\nmax_handshakes = 64\n"
          "max_handshakes_per_address = 4\n",
      "/etc/standbyctl/agent.toml");
  REQUIRE(c.ok());
  CHECK(c->listen == base::Endpoint{"127.0.0.3", 7443});
  CHECK(c->role == Role::kStandby);
  CHECK(c->tls.ca == "/etc/standbyctl/ca.crt");
  CHECK(c->commands.at("check").timeout == std::chrono::seconds(5));
  CHECK(c->limits.idle_timeout == std::chrono::seconds(30));
  CHECK(c->limits.max_frame_bytes == 1u << 20);
  CHECK(c->limits.max_handshakes == 64);
  CHECK(c->limits.max_handshakes_per_address == 4);
}

TEST_CASE("agent config: bad input is reported at its place", "[agent_config]") {
  struct Row {
    std::string text;
    const char* first_error;
  } rows[] = {
      {std::string("listen = \"h\"\nrole = \"backup\"\n") + kTls,
       "a.toml:2:8: role: unknown role \"backup\" (use standby or primary)"},
      {std::string("listen = \"h\"\nrole = \"primary\"\nshutdown = [\"/sbin/poweroff\"]\n") + kTls,
       "a.toml:3:12: shutdown: a primary agent never shuts down"},
      {std::string("listen = \"h\"\nrole = \"standby\"\n") + kTls,
       "a.toml:1:1: top level: missing required key \"shutdown\" (the standby role needs a "
       "shutdown command)"},
      {std::string("listen = \"h\"\nrole = \"primary\"\n") + kTls +
           "[[command]]\nname = \"x\"\nargv = [\"true\"]\n",
       "a.toml:9:8: command[0].argv: the program must be an absolute path, so PATH cannot "
       "change what runs"},
      {std::string("listen = \"h\"\nrole = \"primary\"\n") + kTls +
           "[limits]\nmax_frame = \"8MiB\"\n",
       "a.toml:8:13: limits.max_frame: must not exceed the protocol's 4MiB"},
      {std::string("listen = \"h\"\nrole = \"primary\"\nlisten_port = 1\n") + kTls,
       "a.toml:3:1: unknown key \"listen_port\""},
      {std::string("listen = \"h\"\nrole = \"standby\"\nshutdown = [\"/sbin/poweroff\"]\n"
                   "state_dir = \"\"\n") +
           kTls,
       "a.toml:4:13: state_dir: must not be empty"},
      {std::string("listen = \"h\"\nrole = \"standby\"\nshutdown = [\"/sbin/poweroff\"]\n"
                   "state_dir = \"/proc/sys\"\n") +
           kTls,
       "a.toml:4:13: state_dir: /proc/sys is on a kernel pseudo-filesystem (/proc/sys), not a "
       "place to keep state"},
      {std::string("listen = \"h\"\nrole = \"standby\"\nshutdown = [\"/sbin/poweroff\"]\n"
                   "data_roots = [\"/srv/www/../../etc\"]\n") +
           kTls,
       "a.toml:4:14: data_roots: \"/srv/www/../../etc\" must be an absolute, normalized "
       "directory other than /"},
      {std::string("listen = \"h\"\nrole = \"primary\"\n") + kTls +
           "[limits]\nmax_handshakes = 0\n",
       "a.toml:8:18: limits.max_handshakes: 0 is out of range; expected 1 to 1024"},
      {std::string("listen = \"h\"\nrole = \"primary\"\n") + kTls +
           "[limits]\nmax_handshakes_per_address = 2000\n",
       "a.toml:8:30: limits.max_handshakes_per_address: 2000 is out of range; expected 1 "
       "to 1024"},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    base::Result<AgentConfig> c = ParseAgentConfig(r.text, "a.toml");
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().substr(0, c.status().message().find('\n')) == r.first_error);
  }
}

TEST_CASE("agent config: the example agent configurations are valid", "[agent_config]") {
  for (const char* name : {"agent-standby.toml", "agent-primary.toml"}) {
    INFO(name);
    base::Result<AgentConfig> c = LoadAgentConfig(std::string(SOURCE_DIR "/schedules/") + name);
    INFO(c.status().message());
    CHECK(c.ok());
  }
}

}  // namespace
}  // namespace sb::agent
