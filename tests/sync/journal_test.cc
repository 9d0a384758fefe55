// The commit journal's codec: what a commit writes decodes to the same
// changes, and a journal a crash (or an attacker with the disk) left behind
// is refused unless it is well-formed, whatever its bytes.

#include "agent/sync/journal.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace sb::sync {
namespace {

std::vector<JournalOp> SomeOps() {
  return {JournalOp::Delete("old", NodeType::kDirectory),
          JournalOp::Mkdir("www", {0755, -1'500'000'000, {}, {}}),
          JournalOp::PutFile("www/index.html", "f0", {0644, 1'700'000'000'123'456'789, 1000, 1000},
                             std::string(64, 'a')),
          JournalOp::Link("www/home.html", "www/index.html")};
}

TEST_CASE("journal: what a commit writes decodes to the same changes", "[sync]") {
  const std::vector<JournalOp> ops = SomeOps();
  base::Result<std::vector<JournalOp>> back = DecodeJournal(EncodeJournal(ops), "j");
  REQUIRE(back.ok());
  REQUIRE(back->size() == ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    CHECK((*back)[i].kind == ops[i].kind);
    CHECK((*back)[i].path == ops[i].path);
    CHECK((*back)[i].staged == ops[i].staged);
    CHECK((*back)[i].link_to == ops[i].link_to);
    CHECK((*back)[i].type == ops[i].type);
    CHECK((*back)[i].meta.mode == ops[i].meta.mode);
    CHECK((*back)[i].meta.mtime_ns == ops[i].meta.mtime_ns);
    CHECK((*back)[i].meta.uid == ops[i].meta.uid);
    CHECK((*back)[i].sha256 == ops[i].sha256);
  }
}

TEST_CASE("journal: a malformed journal is corruption, never applied", "[sync]") {
  auto op = [](nlohmann::json j) {
    std::vector<uint8_t> b = nlohmann::json::to_cbor({{"version", 1}, {"ops", {j}}});
    return std::string(b.begin(), b.end());
  };
  const std::string good = EncodeJournal(SomeOps());
  struct Row {
    const char* name;
    std::string bytes;
    std::string message;
  } rows[] = {
      {"empty", "", "j: not a restore journal"},
      {"cut short", good.substr(0, good.size() / 2), "j: not a restore journal"},
      {"not CBOR", std::string(100, '\xff'), "j: not a restore journal"},
      {"deeply nested", std::string(100000, '\x81'), "j: not a restore journal"},
      {"another version", op({}).replace(op({}).find("version") + 7, 1, "\x02"),
       "j: not a restore journal"},
      {"a version of another type (found by fuzzing)",
       [] {
         std::vector<uint8_t> b = nlohmann::json::to_cbor({{"version", "1"}, {"ops", {}}});
         return std::string(b.begin(), b.end());
       }(),
       "j: not a restore journal"},
      {"an op of 3 elements", op({2, "x", "f0"}),
       "j: malformed journal entry: not a 10-element array"},
      {"an unknown kind", op({9, "x", "", "", "f", 0, 0, -1, -1, ""}),
       "j: malformed journal entry: unknown kind"},
      {"a path climbing out", op({2, "../etc/passwd", "f0", "", "f", 0, 0, -1, -1, ""}),
       "j: journal entry with a bad path \"../etc/passwd\""},
      {"a staged name with a slash", op({2, "x", "../../x", "", "f", 0, 0, -1, -1, ""}),
       "j: journal entry with a bad path \"x\""},
      {"a link out of the target", op({3, "x", "", "/etc/shadow", "f", 0, 0, -1, -1, ""}),
       "j: journal entry with a bad path \"x\""},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    base::Result<std::vector<JournalOp>> r = DecodeJournal(row.bytes, "j");
    CHECK(r.status().code() == base::Code::kCorruption);
    CHECK(r.status().message() == row.message);
  }
}

}  // namespace
}  // namespace sb::sync
