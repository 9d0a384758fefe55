#include "agent/base/byte_worker.h"

#include <algorithm>

namespace sb::base {

ByteWorker::ByteWorker(Consumer consumer, size_t chunk, size_t depth)
    : consumer_(std::move(consumer)),
      chunk_(std::max<size_t>(chunk, 1)),
      depth_(std::max<size_t>(depth, 1)),
      thread_([this] { Run(); }) {
  filling_.reserve(chunk_);
}

ByteWorker::~ByteWorker() {
  if (!thread_.joinable()) return;  // finished
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ByteWorker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stop_ || done_ || !queue_.empty(); });
    if (stop_ || queue_.empty()) return;  // stopped, or done and drained
    std::string bytes = std::move(queue_.front());
    queue_.pop_front();
    const bool failed = !status_.ok();
    lock.unlock();
    changed_.notify_all();  // room in the queue
    Status s = failed ? Status::Ok() : consumer_(bytes);
    lock.lock();
    if (status_.ok() && !s.ok()) status_ = s;
    bytes.clear();
    spare_.push_back(std::move(bytes));
  }
}

Status ByteWorker::Enqueue() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return queue_.size() < depth_ || !status_.ok(); });
  if (!status_.ok()) return status_;
  queue_.push_back(std::move(filling_));
  if (spare_.empty()) {
    filling_ = std::string();
    filling_.reserve(chunk_);
  } else {
    filling_ = std::move(spare_.front());
    spare_.pop_front();
  }
  lock.unlock();
  changed_.notify_all();
  return Status::Ok();
}

Status ByteWorker::Add(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t take = std::min(bytes.size(), chunk_ - filling_.size());
    filling_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (filling_.size() == chunk_) SB_RETURN_IF_ERROR(Enqueue());
  }
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

Status ByteWorker::Finish() {
  Status queued = filling_.empty() ? Status::Ok() : Enqueue();
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  changed_.notify_all();
  thread_.join();  // the consumer has seen everything queued
  std::lock_guard<std::mutex> lock(mu_);
  return status_.ok() ? queued : status_;
}

}  // namespace sb::base
