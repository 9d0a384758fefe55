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

TEST_CASE("journal: the streamed journal is the CBOR nlohmann made of the whole tree", "[sync]") {
  // A journal an older agent left behind must still be read, and one this
  // agent writes must be read by an older one: the bytes are a contract.
  // The reference is the encoding the journal had before it was streamed.
  auto reference = [](const std::vector<JournalOp>& ops) {
    nlohmann::json list = nlohmann::json::array();
    for (const JournalOp& op : ops) {
      list.push_back(
          nlohmann::json::array({static_cast<int>(op.kind), op.path, op.staged, op.link_to,
                                 std::string(1, static_cast<char>(op.type)), op.meta.mode,
                                 op.meta.mtime_ns, op.meta.uid ? int64_t{*op.meta.uid} : -1,
                                 op.meta.gid ? int64_t{*op.meta.gid} : -1, op.sha256}));
    }
    std::vector<uint8_t> b = nlohmann::json::to_cbor({{"version", 1}, {"ops", std::move(list)}});
    return std::string(b.begin(), b.end());
  };
  // Every width of a CBOR head: arguments below 24, and of 1, 2, 4 and 8
  // bytes, positive and negative; strings and arrays of those lengths.
  const int64_t numbers[] = {0,         23, 24,  255, 256,  65535, 65536,  4294967295,  4294967296,
                             INT64_MAX, -1, -24, -25, -256, -257,  -65537, -4294967297, INT64_MIN};
  std::vector<JournalOp> ops;
  for (size_t i = 0; i < std::size(numbers); ++i) {
    const int64_t n = numbers[i];
    FileMeta meta{static_cast<uint32_t>(n & 07777), n, {}, {}};
    if (n >= 0 && n <= UINT32_MAX) meta.uid = static_cast<uint32_t>(n);
    if (i % 2 == 0) meta.gid = 65534;
    ops.push_back(JournalOp::PutFile(std::string(1 + i * 230 % 4000, 'p'), "f" + std::to_string(i),
                                     meta, std::string(64, 'a')));
  }
  ops.push_back(JournalOp::Link(std::string(23, 'a'), std::string(24, 'b')));
  ops.push_back(JournalOp::Link(std::string(255, 'c'), std::string(256, 'd')));
  ops.push_back(JournalOp::Delete("gone", NodeType::kSymlink));
  ops.push_back(JournalOp::Patch("db", "p7", {0600, 1, 0, 0}, std::string(64, 'e')));
  for (size_t count : {size_t{0}, size_t{1}, ops.size()}) {
    INFO(count << " ops");
    const std::vector<JournalOp> some(ops.begin(), ops.begin() + static_cast<ptrdiff_t>(count));
    CHECK(EncodeJournal(some) == reference(some));
  }
  // 23 and 24 ops (an array head of 1 and of 2 bytes), 300 (3 bytes) and
  // 70,000 (5 bytes), written in several pieces that together are the whole.
  std::vector<JournalOp> many;
  for (int i = 0; i < 70000; ++i) {
    many.push_back(JournalOp::Mkdir("d/" + std::to_string(i), {0755, i * 1'000'000'007LL, {}, {}}));
    if (i == 22 || i == 23 || i == 299) CHECK(EncodeJournal(many) == reference(many));
  }
  std::string joined;
  int pieces = 0;
  REQUIRE(EncodeJournal(many, [&](std::string_view piece) {
            joined.append(piece);
            ++pieces;
            return base::Status::Ok();
          }).ok());
  CHECK(pieces > 1);
  CHECK(joined == reference(many));
  // A writer's failure ends the encoding and is what it returns.
  int calls = 0;
  base::Status failed = EncodeJournal(many, [&](std::string_view) {
    ++calls;
    return base::Status::IoError("disk full");
  });
  CHECK(failed.message() == "disk full");
  CHECK(calls == 1);
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
