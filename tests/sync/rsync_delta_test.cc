// Signature, delta and patch: old + delta = new, a small edit gives a small
// delta, unchanged blocks are copied and keep their sums, and a corrupt delta
// or signature is an error naming what is wrong.

#include "agent/sync/rsync_delta.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include <catch2/catch.hpp>

#include "agent/base/big_endian.h"
#include "tests/support/temp_dir.h"

namespace sb::sync {
namespace {

using sb::testing::ReadWholeFile;
using sb::testing::TempDir;

using base::GetBigEndian;

std::string BigEndian(uint64_t v, int bytes) {
  std::string s;
  base::PutBigEndian(&s, v, bytes);
  return s;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

struct Result3 {
  std::string rebuilt;
  DeltaStats stats;
};

Result3 RoundTrip(const TempDir& dir, const std::string& old_data, const std::string& new_data) {
  std::string basis = dir.Write("basis", old_data);
  std::string signature;
  REQUIRE(MakeSignature(old_data.size(), StringSource(old_data), StringSink(&signature), 42).ok());
  std::string delta;
  base::Result<DeltaStats> stats = MakeDelta(signature, StringSource(new_data), StringSink(&delta));
  REQUIRE(stats.ok());
  CHECK(stats->delta_bytes == delta.size());
  int fd = ::open(basis.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::string rebuilt;
  base::Status applied = ApplyDelta(fd, StringSource(delta), StringSink(&rebuilt));
  ::close(fd);
  REQUIRE(applied.ok());
  return {rebuilt, *stats};
}

TEST_CASE("rsync delta: old plus delta is new", "[delta]") {
  TempDir dir;
  const std::string old_data = RandomBytes(3 << 20, 1);
  SECTION("scattered small edits send little") {
    std::string new_data = old_data;
    for (size_t off : {1000u, 700'000u, 2'500'000u}) new_data[off] ^= 0x5a;
    Result3 r = RoundTrip(dir, old_data, new_data);
    CHECK(r.rebuilt == new_data);
    CHECK(r.stats.delta_bytes < 64UL * 1024);
    CHECK(r.stats.matched_bytes > (2u << 20));
  }
  SECTION("a file edited in place is copied around the edited blocks") {
    std::string new_data = old_data;
    for (size_t off = 4096; off < new_data.size(); off += 512UL * 1024) new_data[off] ^= 1;
    Result3 r = RoundTrip(dir, old_data, new_data);
    CHECK(r.rebuilt == new_data);
    CHECK(r.stats.matched_bytes + r.stats.literal_bytes == new_data.size());
    CHECK(r.stats.literal_bytes <= 6UL * 4096 * 4);  // six blocks of at most 16 KiB
  }
  SECTION("appending keeps every old block") {
    std::string new_data = old_data + RandomBytes(10'000, 3);
    Result3 r = RoundTrip(dir, old_data, new_data);
    CHECK(r.rebuilt == new_data);
    CHECK(r.stats.matched_bytes >= old_data.size() - 16UL * 1024);
  }
  SECTION("truncating: only the blocks that remain") {
    std::string new_data = old_data.substr(0, 1'234'567);
    Result3 r = RoundTrip(dir, old_data, new_data);
    CHECK(r.rebuilt == new_data);
    CHECK(r.stats.literal_bytes < 16UL * 1024);
  }
  SECTION("an insertion shifts the rest without resending it") {
    std::string new_data = old_data.substr(0, 100'000) + "inserted!" + old_data.substr(100'000);
    Result3 r = RoundTrip(dir, old_data, new_data);
    CHECK(r.rebuilt == new_data);
    CHECK(r.stats.delta_bytes < 64UL * 1024);
  }
  SECTION("unrelated content is all literal") {
    std::string new_data = RandomBytes(1 << 20, 2);
    Result3 r = RoundTrip(dir, old_data, new_data);
    CHECK(r.rebuilt == new_data);
    CHECK(r.stats.literal_bytes == new_data.size());
  }
  SECTION("empty files both ways") {
    CHECK(RoundTrip(dir, "", "fresh").rebuilt == "fresh");
    CHECK(RoundTrip(dir, old_data, "").rebuilt.empty());
  }
}

std::string Signed(const std::string& data, uint64_t seed) {
  std::string sig;
  REQUIRE(MakeSignature(data.size(), StringSource(data), StringSink(&sig), seed).ok());
  return sig;
}

// Pushes `data` to `builder` in random pieces.
base::Result<std::string> Push(SignatureBuilder& builder, const std::string& data, uint32_t seed) {
  std::mt19937 rng(seed);
  for (size_t off = 0; off < data.size();) {
    const size_t n = std::min<size_t>(data.size() - off, rng() % 300'000 + 1);
    REQUIRE(builder.Add(std::string_view(data).substr(off, n)).ok());
    off += n;
  }
  return builder.Finish();
}

TEST_CASE("rsync delta: a signature built from pushed pieces equals the one read at once",
          "[delta]") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{5000}, size_t{3'000'017}}) {
    INFO(size);
    const std::string data = RandomBytes(size, 7);
    SignatureBuilder builder(size, 99);
    base::Result<std::string> pushed = Push(builder, data, static_cast<uint32_t>(size));
    REQUIRE(pushed.ok());
    CHECK(*pushed == Signed(data, 99));
    CHECK(SignatureSeed(*pushed) == 99u);
    CHECK(CheckSignature(*pushed).ok());
  }
  // The size estimate the controller budgets prefetched signatures with.
  for (size_t size : {size_t{0}, size_t{5000}, size_t{3'000'017}}) {
    CHECK(SignatureSizeEstimate(size) == Signed(RandomBytes(size, 1), 1).size());
  }
  // Another seed gives other block hashes, the same librsync sums.
  const std::string data = RandomBytes(100'000, 8);
  const std::string a = Signed(data, 1), b = Signed(data, 2);
  CHECK(a != b);
  CHECK(a.size() == b.size());
}

TEST_CASE("rsync delta: unchanged blocks take the previous signature's sums", "[delta]") {
  const std::string old_data = RandomBytes(3'000'000, 11);
  const std::string previous = Signed(old_data, 5);
  std::string edited = old_data;
  edited[10] ^= 1;
  edited[2'000'000] ^= 1;
  SECTION("an edited file: all blocks but two reused, and the same signature as computed") {
    SignatureBuilder builder(edited.size(), 5, previous);
    base::Result<std::string> sig = Push(builder, edited, 1);
    REQUIRE(sig.ok());
    CHECK(*sig == Signed(edited, 5));
    const uint64_t blocks = (previous.size() - 44) / 52;  // 16 + 36 bytes a block
    CHECK(builder.reused_blocks() == blocks - 2);
  }
  SECTION("the same file: every block reused") {
    SignatureBuilder builder(old_data.size(), 5, previous);
    REQUIRE(Push(builder, old_data, 2).value() == previous);
    CHECK(builder.reused_blocks() > 1000);
  }
  SECTION("another seed, another block length, or no signature: nothing reused, still right") {
    for (auto [size, seed, prev] : {std::tuple{edited.size(), uint64_t{6}, previous},
                                    std::tuple{edited.size() + 1'000'000, uint64_t{5}, previous},
                                    std::tuple{edited.size(), uint64_t{5}, std::string("junk")}}) {
      std::string data = edited;
      data.resize(size, 'x');
      SignatureBuilder builder(size, seed, prev);
      REQUIRE(Push(builder, data, 3).value() == Signed(data, seed));
      CHECK(builder.reused_blocks() == 0);
    }
  }
}

uint32_t BlockLength(std::string_view signature) {
  return static_cast<uint32_t>(GetBigEndian(signature.data() + 8, 4));
}

// A database's head: sqlite's magic, then the page size at offset 16.
std::string SqliteHead(uint32_t page_field) {
  return std::string("SQLite format 3\0", 16) + BigEndian(page_field, 2);
}

TEST_CASE("rsync delta: a database of whole pages is matched by its page size", "[delta]") {
  auto block_of = [](const std::string& data) {
    const std::string sig = Signed(data, 3);
    // The head arriving a byte at a time, then the rest in one piece.
    SignatureBuilder pushed(data.size(), 3);
    const size_t head = std::min<size_t>(data.size(), 40);
    for (size_t i = 0; i < head; ++i) REQUIRE(pushed.Add(std::string_view(data).substr(i, 1)).ok());
    REQUIRE(pushed.Add(std::string_view(data).substr(head)).ok());
    CHECK(pushed.Finish().value() == sig);
    CHECK(SignatureSizeEstimate(data.size()) >= sig.size());
    return BlockLength(sig);
  };
  const uint32_t sqrt_block = block_of(RandomBytes(1 << 22, 1));
  CHECK(sqrt_block == 2048);
  std::string db = RandomBytes(1 << 22, 1);
  db.replace(0, 18, SqliteHead(4096));
  CHECK(block_of(db) == 4096);
  db.replace(0, 18, SqliteHead(1));  // 1 stands for 65536
  CHECK(block_of(db) == 65536);
  db.replace(0, 18, SqliteHead(512));
  CHECK(block_of(db) == 512);
  // Not a page size, not whole pages, not sqlite's magic: the usual blocks.
  db.replace(0, 18, SqliteHead(3000));
  CHECK(block_of(db) == sqrt_block);
  db.replace(0, 18, SqliteHead(256));
  CHECK(block_of(db) == sqrt_block);
  db.replace(0, 18, SqliteHead(4096));
  CHECK(block_of(db + "x") == 2048);
  db[0] = 's';
  CHECK(block_of(db) == sqrt_block);
  // Shorter than a page, or than the head.
  CHECK(block_of(SqliteHead(4096) + "tail") == 256);
  CHECK(block_of("SQLite") == 256);
}

TEST_CASE("rsync delta: a database of too many pages is matched by runs of pages", "[delta]") {
  // 524,289 pages of 512 bytes: one page more than a page-matched signature
  // holds blocks, so pairs of pages. The bytes are generated as they are read.
  const uint64_t size = (uint64_t{1} << 19) * 512 + 512;
  const std::string head = SqliteHead(512);
  uint64_t at = 0;
  ByteSource source = [&](char* buffer, size_t n) -> base::Result<size_t> {
    n = static_cast<size_t>(std::min<uint64_t>(n, size - at));
    std::memset(buffer, 0, n);
    for (size_t i = 0; i < n && at + i < head.size(); ++i) buffer[i] = head[at + i];
    at += n;
    return n;
  };
  std::string sig;
  REQUIRE(MakeSignature(size, source, StringSink(&sig), 1).ok());
  CHECK(BlockLength(sig) == 1024);
  CHECK(SignatureSizeEstimate(size) >= sig.size());
}

// Runs `sql` on the sqlite database at `path`.
void Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO((error != nullptr ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

TEST_CASE("rsync delta: a database changed by SQL sends about its changed pages", "[delta]") {
  TempDir dir;
  const std::string path = dir.Sub("db.sqlite");
  Sql(path,
      "PRAGMA page_size = 4096; PRAGMA journal_mode = DELETE;"
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
      "CREATE INDEX t_v ON t (v);"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
      "  INSERT INTO t SELECT i, hex(randomblob(100)) FROM n;");
  const std::string old_data = ReadWholeFile(path);
  // Scattered changes: 0.1% of the rows updated at random, 50 rows added,
  // 20 deleted.
  Sql(path,
      "UPDATE t SET v = hex(randomblob(100)) WHERE id IN"
      "  (SELECT abs(random()) % 20000 + 1 FROM t LIMIT 20);"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)"
      "  INSERT INTO t (v) SELECT hex(randomblob(100)) FROM n;"
      "DELETE FROM t WHERE id IN (SELECT abs(random()) % 20000 + 1 FROM t LIMIT 20);");
  const std::string new_data = ReadWholeFile(path);
  REQUIRE(old_data.size() % 4096 == 0);
  uint64_t changed = 0;  // pages
  for (size_t at = 0; at < new_data.size(); at += 4096) {
    if (at >= old_data.size() || new_data.compare(at, 4096, old_data, at, 4096) != 0) ++changed;
  }
  const uint64_t pages = new_data.size() / 4096;
  INFO(changed << " of " << pages << " pages changed");
  REQUIRE(changed * 5 < pages);  // scattered, not most of the file

  Result3 r = RoundTrip(dir, old_data, new_data);
  CHECK(r.rebuilt == new_data);
  CHECK(r.stats.literal_bytes <= changed * 4096);
  CHECK(r.stats.delta_bytes < changed * 4096 + uint64_t{64} * 1024);
}

TEST_CASE("rsync delta: a corrupt signature is an error", "[delta]") {
  const std::string good = Signed(RandomBytes(50'000, 4), 7);
  auto fails = [](const std::string& sig) {
    std::string delta;
    base::Result<DeltaStats> r = MakeDelta(sig, StringSource("data"), StringSink(&delta));
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(CheckSignature(sig).ok());
    return r.status().message();
  };
  CHECK(fails("not a signature") == "reading the signature: not a standbyctl signature");
  std::string v2 = good;
  v2[7] = 2;
  CHECK(fails(v2) == "reading the signature: unknown version 2");
  std::string count = good;
  count[31] ^= 1;
  CHECK(fails(count).ends_with("do not make 50000 bytes"));
  CHECK(fails(good.substr(0, 40)) == "reading the signature: truncated block hashes");
  CHECK(fails(good.substr(0, good.size() - 1)) ==
        "reading the signature: librsync's part does not hold one entry per block");
}

TEST_CASE("rsync delta: a corrupt delta is an error naming where", "[delta]") {
  TempDir dir;
  const std::string old_data = RandomBytes(200'000, 9);
  std::string basis = dir.Write("basis", old_data);
  int fd = ::open(basis.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  auto apply = [&](const std::string& delta) {
    std::string out;
    base::Status s = ApplyDelta(fd, StringSource(delta), StringSink(&out));
    REQUIRE_FALSE(s.ok());
    return s.message();
  };
  const std::string head = std::string("SBDL") + std::string("\0\0\0\x01", 4);
  auto u64 = [](uint64_t v) { return BigEndian(v, 8); };
  CHECK(apply("\x72\x73\x02\x36garbage") == "patch: not a standbyctl delta");
  CHECK(apply(head) == "patch: the delta ends without its end record");
  CHECK(apply(head + "Z") == "patch: unknown record 0x5a at byte 8 of the delta");
  CHECK(apply(head + "C" + u64(0)) == "patch: the delta ends inside a record at byte 17");
  CHECK(apply(head + "C" + u64(199'000) + u64(5000) + "E" + u64(5000)) ==
        "patch: the delta copies from offset 200000, past the end of the old file");
  CHECK(apply(head + "C" + u64(0) + u64(10) + "E" + u64(11)) ==
        "patch: the delta made 10 bytes, its end record says 11");
  CHECK(apply(head + "E" + u64(0) + "more") == "patch: bytes after the delta's end record");
  CHECK(apply(head + "D" + std::string("\0\0\0\x04", 4) + "junk" + "E" + u64(0))
            .starts_with("patch: "));
  // A run with bytes after librsync's end command.
  std::string sig;
  REQUIRE(MakeSignature(old_data.size(), StringSource(old_data), StringSink(&sig), 1).ok());
  std::string delta;
  REQUIRE(MakeDelta(sig, StringSource(RandomBytes(1000, 10)), StringSink(&delta)).ok());
  std::string stream;  // the run's librsync stream, from its pieces
  size_t at = 8;
  while (delta[at] == 'D') {
    const uint32_t n = static_cast<uint32_t>(GetBigEndian(delta.data() + at + 1, 4));
    stream += delta.substr(at + 5, n);
    at += 5 + n;
  }
  REQUIRE(delta.substr(at) == "E" + u64(1000));
  auto u32 = [](uint64_t v) { return BigEndian(v, 4); };
  CHECK(apply(head + "D" + u32(static_cast<uint32_t>(stream.size() + 1)) + stream + "x" + "E" +
              u64(1000)) == "patch: 1 bytes follow the end of librsync's stream");
  ::close(fd);
}

}  // namespace
}  // namespace sb::sync
