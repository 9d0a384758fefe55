// Bytes handed to a consumer that runs on its own thread, so that hashing a
// large file can overlap writing it. The bytes are copied into buffers of
// `chunk` bytes; at most `depth` of them wait, so memory stays bounded and
// Add blocks while the consumer is behind. The consumer sees the bytes in
// order; its first error is kept and returned by Add (from then on) and
// Finish. One producer thread.

#ifndef AGENT_BASE_BYTE_WORKER_H_
#define AGENT_BASE_BYTE_WORKER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "agent/base/status.h"

namespace sb::base {

class ByteWorker {
 public:
  using Consumer = std::function<Status(std::string_view bytes)>;

  explicit ByteWorker(Consumer consumer, size_t chunk = 1 << 20, size_t depth = 8);
  ~ByteWorker();  // unless finished: stops the consumer, dropping what is queued
  ByteWorker(const ByteWorker&) = delete;
  ByteWorker& operator=(const ByteWorker&) = delete;

  Status Add(std::string_view bytes);
  // Hands over what is buffered, waits until the consumer has seen it all.
  // Once.
  Status Finish();

 private:
  void Run();
  Status Enqueue();

  Consumer consumer_;
  const size_t chunk_;
  const size_t depth_;
  std::string filling_;  // the producer's buffer, not yet queued
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  std::deque<std::string> spare_;  // consumed buffers, for reuse
  bool done_ = false;              // no more bytes will come
  bool stop_ = false;              // give up on what is queued
  Status status_;                  // the consumer's first error
  std::thread thread_;
};

}  // namespace sb::base

#endif  // AGENT_BASE_BYTE_WORKER_H_
