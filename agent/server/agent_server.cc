#include "agent/server/agent_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/file.h"
#include "agent/base/units.h"
#include "agent/net/channel.h"
#include "agent/server/session.h"
#include "agent/sync/staged_restore.h"

namespace sb::agent {
namespace {

constexpr std::chrono::seconds kWriteTimeout{30};

base::Result<int> Listen(const base::Endpoint& endpoint, uint16_t* bound_port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  std::string port = std::to_string(endpoint.port);
  int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &ai);
  if (rc != 0) {
    return base::Status::Invalid(
        fmt::format("cannot resolve listen address {}: {}", endpoint.host, ::gai_strerror(rc)));
  }
  int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    ::freeaddrinfo(ai);
    if (fd >= 0) ::close(fd);
    return base::Status::FromErrno(fmt::format("cannot listen on {}", endpoint.ToString()), err);
  }
  ::freeaddrinfo(ai);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

// A request's data chunks over the connection's channel. A frame other than
// a chunk of that request is a protocol violation: the connection ends.
class ChannelChunks : public ChunkIo {
 public:
  ChannelChunks(net::Channel& channel, base::Duration idle) : channel_(channel), idle_(idle) {}

  base::Result<std::string_view> ReadChunk(uint64_t id) override {
    base::Result<proto::Frame> frame = channel_.ReadFrame(net::After(idle_));
    if (!frame.ok()) return broken(frame.status());
    uint64_t chunk_id = 0;
    std::string_view bytes;
    if (frame->kind != proto::FrameKind::kChunk ||
        !proto::ParseChunk(frame->payload, &chunk_id, &bytes).ok() || chunk_id != id) {
      return broken(base::Status::Invalid(
          fmt::format("expected a data chunk of request #{}, got something else", id)));
    }
    return bytes;
  }

  base::Status WriteChunk(uint64_t id, std::string_view bytes) override {
    base::Status s = channel_.WriteChunk(id, bytes, net::After(kWriteTimeout));
    return s.ok() ? s : broken(s);
  }

  // Set once the stream cannot be trusted to be in step: the connection ends.
  const base::Status& broken_status() const { return broken_; }

 private:
  base::Status broken(base::Status s) {
    broken_ = s;
    return s;
  }

  net::Channel& channel_;
  base::Duration idle_;
  base::Status broken_;
};

}  // namespace

AgentServer::AgentServer(const AgentConfig& config, net::TlsContext tls, HostSeams seams)
    : config_(config), tls_(std::move(tls)), operations_(config, std::move(seams)) {}

AgentServer::~AgentServer() { Stop(); }

base::Status AgentServer::LockStateDirectory() {
  SB_RETURN_IF_ERROR(base::MakeDirectories(config_.state_dir, 0700));
  const std::string path = fmt::format("{}/agent.lock", config_.state_dir);
  base::Result<base::UniqueFd> fd = base::TryLockFile(path);
  if (!fd.ok()) {
    if (fd.status().code() != base::Code::kUnavailable) return fd.status();
    base::Result<std::string> holder = base::ReadFile(path, 32);
    std::string_view pid = holder.ok() ? std::string_view(*holder) : std::string_view();
    pid = pid.substr(0, pid.find('\n'));
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string_view::npos) pid = "?";
    return base::Status::Unavailable(fmt::format(
        "another standby-agent (pid {}) holds {}: two agents sharing the state directory {} "
        "would undo each other's restores; stop that one first, or give this one its own "
        "state_dir and data_roots; nothing was changed",
        pid, path, config_.state_dir));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd->get(), 0) != 0 || ::pwrite(fd->get(), pid.data(), pid.size(), 0) < 0) {
    return base::Status::FromErrno(path, errno);
  }
  state_lock_ = std::move(*fd);
  return base::Status::Ok();
}

base::Status AgentServer::Start() {
  if (config_.role == Role::kStandby) {
    SB_RETURN_IF_ERROR(LockStateDirectory());
    // Before any connection: a restore a crash interrupted is finished or
    // undone, so every target is whole again.
    for (const std::string& line : sync::StagedRestore::RecoverAll(config_.state_dir)) {
      if (line.find("NOT recovered") != std::string::npos) {
        spdlog::error("{}", line);
      } else {
        spdlog::warn("{}", line);
      }
    }
  }
  base::Result<int> fd = Listen(config_.listen, &port_);
  if (!fd.ok()) return fd.status();
  listen_fd_ = *fd;
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) return base::Status::FromErrno("pipe", errno);
  spdlog::info("listening on {}:{} as {} agent", config_.listen.host, port_,
               RoleName(config_.role));
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return base::Status::Ok();
}

void AgentServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (wake_pipe_[1] >= 0) {
    char c = 0;
    ssize_t ignored = ::write(wake_pipe_[1], &c, 1);
    (void)ignored;
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Wake every connection thread out of its poll; each closes its own fd.
    for (Connection& c : connections_) {
      if (c.wake_fd >= 0) ::shutdown(c.wake_fd, SHUT_RDWR);
    }
  }
  for (Connection& c : connections_) {
    if (c.thread.joinable()) c.thread.join();
  }
  connections_.clear();
  for (int* fd : {&listen_fd_, &wake_pipe_[0], &wake_pipe_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void AgentServer::ReapFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->done) {
      it->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void AgentServer::LogRefusal(LogBudget& budget, const std::string& line) {
  if (budget.Take()) spdlog::warn("{}", line);
}

void AgentServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int n = ::poll(fds, 2, 1000);
    ReapFinished();
    for (LogBudget* budget : {&refused_log_, &handshake_log_}) {
      if (uint64_t quiet = budget->TakeSuppressed(); quiet > 0) {
        spdlog::warn("{} more refusals in the last {} were not logged", quiet,
                     base::FormatDuration(budget->window()));
      }
    }
    if (n <= 0 || fds[1].revents != 0) continue;
    // Drain what is queued (bounded), so a flood of connects cannot fill the
    // listen backlog and hold a controller's connect in it.
    for (int accepted = 0; accepted < 256 && !stopping_.load(); ++accepted) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
          spdlog::warn("accept failed: {}", std::strerror(errno));
          std::this_thread::sleep_for(std::chrono::milliseconds(100));  // never spin
        }
        break;
      }
      std::lock_guard<std::mutex> lock(mu_);
      Admit(fd);
    }
  }
}

void AgentServer::Admit(int fd) {
  const AgentLimits& limits = config_.limits;
  const std::string host = net::PeerHost(fd);
  int handshakes = 0, from_host = 0, live = 0;
  std::map<std::string, int> by_host;
  for (const Connection& c : connections_) {
    if (c.done) continue;
    ++live;
    if (c.authenticated || c.cut) continue;
    ++handshakes;
    ++by_host[c.host];
    if (c.host == host) ++from_host;
  }
  // Threads stay bounded whatever happens: handshakes (and those being cut,
  // until their threads end), and sessions.
  const int max_live = 2 * limits.max_handshakes + limits.max_connections;
  if (from_host >= limits.max_handshakes_per_address || live >= max_live) {
    ++refused_;
    LogRefusal(refused_log_,
               from_host >= limits.max_handshakes_per_address
                   ? fmt::format("refused connection from {}: {} handshakes in progress from it "
                                 "(limits.max_handshakes_per_address)",
                                 host, from_host)
                   : fmt::format("refused connection from {}: {} connections being served or cut "
                                 "(the most there may be)",
                                 host, live));
    ::close(fd);
    return;
  }
  if (handshakes >= limits.max_handshakes) {
    // Room for the newcomer: the oldest handshake of the busiest address.
    auto busiest =
        std::max_element(by_host.begin(), by_host.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    for (Connection& c : connections_) {
      if (c.done || c.authenticated || c.cut || c.host != busiest->first) continue;
      c.cut = true;
      if (c.wake_fd >= 0) ::shutdown(c.wake_fd, SHUT_RDWR);
      LogRefusal(refused_log_,
                 fmt::format("cut a handshake from {} to make room: {} handshakes in progress "
                             "(the limit)",
                             c.host, handshakes));
      break;
    }
  }
  Connection& c = connections_.emplace_back();
  c.host = host;
  // Stop() shuts this duplicate down to wake the thread; the thread's own
  // fd may be closed and its number reused at any time, the duplicate not.
  c.wake_fd = ::dup(fd);
  c.thread = std::thread([this, &c, fd] {
    Serve(fd, &c);
    std::lock_guard<std::mutex> done_lock(mu_);
    ::close(c.wake_fd);
    c.wake_fd = -1;
    c.done = true;
  });
}

void AgentServer::Serve(int fd, Connection* self) {
  const std::string peer = net::PeerAddress(fd);
  const AgentLimits& limits = config_.limits;
  base::Result<std::unique_ptr<net::TlsStream>> stream =
      net::TlsStream::Accept(fd, tls_, peer, net::After(limits.handshake_timeout));
  if (!stream.ok()) {
    ++refused_;
    LogRefusal(handshake_log_,
               fmt::format("refused connection from {}: {}", peer, stream.status().message()));
    return;
  }
  const std::string subject = net::PeerSubject((*stream)->ssl());
  base::Status role = net::CheckPeerRole((*stream)->ssl(), net::PeerRole::kController);
  if (!role.ok()) {
    ++refused_;
    LogRefusal(handshake_log_, fmt::format("refused connection from {}: {}", peer, role.message()));
    return;
  }
  net::Channel channel(std::move(*stream), limits.max_frame_bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    int sessions = 0;
    for (const Connection& c : connections_) sessions += c.authenticated && !c.done ? 1 : 0;
    if (self->cut || sessions >= limits.max_connections) {
      ++refused_;
      const base::Status busy = base::Status::Unavailable(fmt::format(
          "this agent already serves {} controller sessions (limits.max_connections)", sessions));
      spdlog::warn("refused connection from {} ({}): {}", peer, subject, busy.message());
      (void)channel.WriteMessage(proto::ErrorReply(0, busy), net::After(std::chrono::seconds(1)));
      return;
    }
    self->authenticated = true;
  }
  spdlog::info("connection from {}, certificate {}", peer, subject);

  Session session(operations_);
  while (!stopping_.load()) {
    base::Result<proto::Frame> frame = channel.ReadFrame(net::After(limits.idle_timeout));
    if (!frame.ok()) {
      if (frame.status().code() == base::Code::kTimeout) {
        spdlog::warn("closing connection from {}: nothing complete received for {}", peer,
                     base::FormatDuration(limits.idle_timeout));
      } else if (frame.status().code() == base::Code::kUnavailable) {
        spdlog::info("connection from {} ended: {}", peer, frame.status().message());
      } else {
        spdlog::warn("closing connection from {}: {}", peer, frame.status().message());
        if (frame.status().code() == base::Code::kInvalidArgument) {
          // A frame over the limit, say: the peer learns why, not just a reset.
          (void)channel.WriteMessage(proto::ErrorReply(0, frame.status()),
                                     net::After(std::chrono::seconds(1)));
        }
      }
      return;
    }
    if (frame->kind != proto::FrameKind::kMessage) {
      spdlog::warn(
          "closing connection from {}: a data chunk that belongs to no request in progress", peer);
      return;
    }
    base::Result<proto::Message> request = proto::DecodeMessage(frame->payload);
    if (!request.ok()) {
      spdlog::warn("closing connection from {}: {}", peer, request.status().message());
      (void)channel.WriteMessage(proto::ErrorReply(0, request.status()),
                                 net::After(std::chrono::seconds(1)));
      return;
    }
    ChannelChunks chunks(channel, limits.idle_timeout);
    SessionReply out = session.Handle(*request, &chunks);
    if (!chunks.broken_status().ok()) {
      spdlog::warn("closing connection from {}: {}", peer, chunks.broken_status().message());
      return;
    }
    if (!out.refusal.empty()) {
      spdlog::warn("refused {} #{} from {} ({}): {}", request->type, request->id, peer, subject,
                   out.refusal);
    }
    base::Status written;
    for (const proto::Message& part : out.parts) {
      written = channel.WriteMessage(part, net::After(kWriteTimeout));
      if (!written.ok()) break;
    }
    if (written.ok()) written = channel.WriteMessage(out.reply, net::After(kWriteTimeout));
    if (!written.ok()) {
      spdlog::warn("closing connection from {}: {}", peer, written.message());
      return;
    }
    if (out.close) {
      spdlog::warn("closing connection from {} after refusing {}", peer, request->type);
      return;
    }
  }
}

}  // namespace sb::agent
