#include "tests/support/udp_proxy.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <random>
#include <string>

#include "tests/support/background_process.h"

namespace sb::testing {

UdpProxy::UdpProxy(int server_port, Faults faults)
    : faults_(std::move(faults)), server_port_(static_cast<uint16_t>(server_port)) {
  fd_ = BindLoopback(SOCK_DGRAM, &port_);
  thread_ = std::thread([this] { Run(); });
}

UdpProxy::~UdpProxy() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

std::vector<std::string> UdpProxy::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void UdpProxy::Run() {
  using Clock = std::chrono::steady_clock;
  std::mt19937 random(faults_.seed);
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  auto lose = [&] { return faults_.loss > 0 && chance(random) < faults_.loss; };

  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server.sin_port = htons(server_port_);
  sockaddr_in client{};
  struct Pending {
    Clock::time_point due;
    std::string bytes;
  };
  std::deque<Pending> replies;  // in order of `due`: the delay is the same for all

  while (!stop_) {
    // Pass on the replies that are due.
    while (!replies.empty() && replies.front().due <= Clock::now()) {
      ::sendto(fd_, replies.front().bytes.data(), replies.front().bytes.size(), 0,
               reinterpret_cast<sockaddr*>(&client), sizeof client);
      replies.pop_front();
    }
    int wait_ms = 20;
    if (!replies.empty()) {
      auto until =
          std::chrono::duration_cast<std::chrono::milliseconds>(replies.front().due - Clock::now());
      wait_ms = std::max(0, std::min(wait_ms, static_cast<int>(until.count())));
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) continue;
    char buf[2048];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    std::string bytes(buf, static_cast<size_t>(n));
    if (from.sin_port == server.sin_port) {
      if ((faults_.lose_reply && faults_.lose_reply(bytes)) || lose()) {
        ++lost_;
        continue;
      }
      if (faults_.damage_reply && faults_.damage_reply(bytes)) {
        bytes.back() = static_cast<char>(bytes.back() ^ 0x5a);
        ++damaged_;
      }
      if (faults_.truncate_reply && faults_.truncate_reply(bytes)) {
        bytes.resize(std::min<size_t>(bytes.size(), 10));
        ++damaged_;
      }
      replies.push_back({Clock::now() + faults_.reply_delay, std::move(bytes)});
      continue;
    }
    client = from;
    int index = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      index = static_cast<int>(requests_.size());
      requests_.push_back(bytes);
    }
    if ((faults_.lose_request && faults_.lose_request(bytes, index)) || lose()) {
      ++lost_;
      continue;
    }
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&server),
             sizeof server);
  }
}

}  // namespace sb::testing
