// The byte worker: the consumer sees every byte in order on another thread,
// its first error reaches the producer, and dropping it mid-way stops it.

#include "agent/base/byte_worker.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

namespace sb::base {
namespace {

TEST_CASE("byte worker: every byte, in order, on another thread", "[byte_worker]") {
  std::string seen;
  std::thread::id consumer_thread;
  ByteWorker worker(
      [&](std::string_view bytes) {
        consumer_thread = std::this_thread::get_id();
        seen.append(bytes);
        return Status::Ok();
      },
      /*chunk=*/7, /*depth=*/2);
  std::string sent;
  for (int i = 0; i < 1000; ++i) {
    std::string piece = std::to_string(i) + std::string(static_cast<size_t>(i % 13), 'x');
    sent += piece;
    REQUIRE(worker.Add(piece).ok());
  }
  REQUIRE(worker.Finish().ok());
  CHECK(seen == sent);
  CHECK(consumer_thread != std::this_thread::get_id());
}

TEST_CASE("byte worker: the consumer's first error comes back, later bytes are not consumed",
          "[byte_worker]") {
  int calls = 0;
  ByteWorker worker(
      [&](std::string_view) {
        ++calls;
        return calls == 2 ? Status::Invalid("second chunk refused") : Status::Ok();
      },
      4, 1);
  Status s = Status::Ok();
  for (int i = 0; i < 100 && s.ok(); ++i) s = worker.Add("abcd");
  Status finished = worker.Finish();
  REQUIRE_FALSE(finished.ok());
  CHECK(finished.message() == "second chunk refused");
  CHECK(calls == 2);
}

TEST_CASE("byte worker: dropped unfinished, it stops without consuming the queue",
          "[byte_worker]") {
  std::atomic<int> calls = 0;
  {
    ByteWorker worker(
        [&](std::string_view) {
          ++calls;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          return Status::Ok();
        },
        1, 8);
    for (int i = 0; i < 10; ++i) REQUIRE(worker.Add("z").ok());
  }
  CHECK(calls < 10);
}

}  // namespace
}  // namespace sb::base
