// Signature, delta and patch with librsync: old + delta = new, a small edit
// gives a small delta, and a corrupt delta or signature is an error.

#include "agent/sync/rsync_delta.h"

#include <fcntl.h>
#include <unistd.h>

#include <random>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

namespace sb::sync {
namespace {

using sb::testing::TempDir;

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
  REQUIRE(MakeSignature(old_data.size(), StringSource(old_data), StringSink(&signature)).ok());
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
    CHECK(r.stats.delta_bytes < 64 * 1024);
    CHECK(r.stats.matched_bytes > (2u << 20));
  }
  SECTION("an insertion shifts the rest without resending it") {
    std::string new_data = old_data.substr(0, 100'000) + "inserted!" + old_data.substr(100'000);
    Result3 r = RoundTrip(dir, old_data, new_data);
    CHECK(r.rebuilt == new_data);
    CHECK(r.stats.delta_bytes < 64 * 1024);
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

TEST_CASE("rsync delta: a signature built from pushed pieces equals the one read at once",
          "[delta]") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{5000}, size_t{3'000'017}}) {
    INFO(size);
    const std::string data = RandomBytes(size, 7);
    std::string whole;
    REQUIRE(MakeSignature(size, StringSource(data), StringSink(&whole)).ok());
    SignatureBuilder builder(size);
    std::mt19937 rng(size);
    for (size_t off = 0; off < data.size();) {
      const size_t n = std::min<size_t>(data.size() - off, rng() % 300'000 + 1);
      REQUIRE(builder.Add(std::string_view(data).substr(off, n)).ok());
      off += n;
    }
    base::Result<std::string> pushed = builder.Finish();
    REQUIRE(pushed.ok());
    CHECK(*pushed == whole);
  }
}

TEST_CASE("rsync delta: a corrupt signature or delta is an error", "[delta]") {
  TempDir dir;
  std::string delta;
  base::Result<DeltaStats> bad_sig =
      MakeDelta("not a signature", StringSource("data"), StringSink(&delta));
  REQUIRE_FALSE(bad_sig.ok());
  CHECK(bad_sig.status().message().starts_with("reading the signature: "));

  std::string basis = dir.Write("basis", "old");
  int fd = ::open(basis.c_str(), O_RDONLY);
  std::string out;
  base::Status bad_delta =
      ApplyDelta(fd, StringSource("\x72\x73\x02\x36garbage"), StringSink(&out));
  ::close(fd);
  REQUIRE_FALSE(bad_delta.ok());
  CHECK(bad_delta.message().starts_with("patch: "));
}

}  // namespace
}  // namespace sb::sync
