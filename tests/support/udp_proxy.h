// Test support: a UDP relay on 127.0.0.1 between one client and a server
// (ipmi_sim), standing in for a bad network: it can delay replies, drop
// datagrams either way and damage replies. Random choices come from a
// seeded generator, so a run is repeatable. Not for production code.

#ifndef TESTS_SUPPORT_UDP_PROXY_H_
#define TESTS_SUPPORT_UDP_PROXY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sb::testing {

class UdpProxy {
 public:
  struct Faults {
    // Added to every reply (server to client) before it is passed on.
    std::chrono::milliseconds reply_delay{0};
    // The chance that a datagram, either way, is lost.
    double loss = 0;
    // Requests (client to server) lost whatever `loss` says, when it
    // returns true; it sees each request and how many came before it.
    std::function<bool(std::string_view request, int index)> lose_request;
    // Replies lost whatever `loss` says, when it returns true.
    std::function<bool(std::string_view reply)> lose_reply;
    // Replies whose last byte is flipped before they are passed on (an
    // authenticated reply then fails its integrity check).
    std::function<bool(std::string_view reply)> damage_reply;
    // Replies cut to their first 10 bytes before they are passed on.
    std::function<bool(std::string_view reply)> truncate_reply;
    uint32_t seed = 1;
  };

  // Relays between the client that writes to port() and 127.0.0.1:server_port.
  UdpProxy(int server_port, Faults faults);
  ~UdpProxy();  // stops the relay thread
  UdpProxy(const UdpProxy&) = delete;
  UdpProxy& operator=(const UdpProxy&) = delete;

  uint16_t port() const { return port_; }
  // Every request seen from the client so far, lost ones too, in order.
  std::vector<std::string> Requests() const;
  int lost() const { return lost_; }        // either way
  int damaged() const { return damaged_; }  // flipped or cut

 private:
  void Run();

  Faults faults_;
  int fd_ = -1;
  uint16_t port_ = 0;
  uint16_t server_port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;  // guarded by mu_
  std::atomic<int> lost_{0};
  std::atomic<int> damaged_{0};
  std::thread thread_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_UDP_PROXY_H_
