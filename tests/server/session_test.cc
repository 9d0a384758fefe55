#include "agent/server/session.h"

#include <catch2/catch.hpp>

namespace sb::agent {
namespace {

proto::Message Request(uint64_t id, std::string type,
                       nlohmann::json body = nlohmann::json::object()) {
  proto::Message m;
  m.id = id;
  m.type = std::move(type);
  m.body = std::move(body);
  return m;
}

proto::Message Hello(uint64_t id, int min = 1, int max = 1) {
  return Request(id, "Hello", {{"protocol_min", min}, {"protocol_max", max}});
}

AgentConfig Config(Role role) {
  AgentConfig c;
  c.role = role;
  c.shutdown = {"/bin/true"};
  return c;
}

TEST_CASE("session: Hello must come first", "[session]") {
  Operations ops(Config(Role::kStandby), {});
  Session session(ops);
  SessionReply r = session.Handle(Request(1, "Ping"));
  CHECK(r.close);
  CHECK(r.reply.type == "Error");
  CHECK(r.refusal == "expected Hello as the first message, got \"Ping\"");
}

TEST_CASE("session: Hello agrees on a version or says there is none", "[session]") {
  Operations ops(Config(Role::kStandby), {});
  Session late(ops);
  SessionReply none = late.Handle(Hello(1, 2, 3));
  CHECK(none.close);
  CHECK(none.refusal ==
        "no common protocol version: the controller speaks 2 to 3, this agent speaks 1");

  Session ok(ops);
  SessionReply hello = ok.Handle(Hello(1, 1, 5));
  CHECK_FALSE(hello.close);
  CHECK(hello.reply.body["protocol"] == 1);
  CHECK(hello.reply.body["role"] == "standby");
  CHECK(ok.greeted());
  SessionReply twice = ok.Handle(Hello(2));
  CHECK(twice.close);
  CHECK(twice.refusal == "Hello sent twice");
}

TEST_CASE("session: the primary role refuses every writing operation", "[session]") {
  Operations ops(Config(Role::kPrimary), {});
  Session session(ops);
  REQUIRE_FALSE(session.Handle(Hello(1)).close);
  uint64_t id = 2;
  for (const char* type : {"Shutdown", "RestoreBegin", "Signature", "StageFile", "Change",
                           "RestoreCommit", "RestoreAbort"}) {
    INFO(type);
    SessionReply r = session.Handle(Request(id, type, {{"root", "/srv/www"}}));
    CHECK(r.reply.type == "Error");
    CHECK(r.reply.id == id++);
    CHECK(
        r.refusal.ends_with("refused: this agent has the primary role, which never writes or "
                            "shuts down"));
    std::vector<std::string> caps = ops.Capabilities();
    CHECK(std::find(caps.begin(), caps.end(), type) == caps.end());
  }
}

TEST_CASE("session: a RunCommand without a name is a clear error", "[session]") {
  Operations ops(Config(Role::kStandby), {});
  Session session(ops);
  REQUIRE_FALSE(session.Handle(Hello(1)).close);
  SessionReply r = session.Handle(Request(2, "RunCommand"));
  CHECK(r.refusal == "RunCommand: missing field \"name\"");
  SessionReply wrong = session.Handle(Request(3, "RunCommand", {{"name", 5}}));
  CHECK(wrong.refusal == "RunCommand: field \"name\" has the wrong type");
}

}  // namespace
}  // namespace sb::agent
