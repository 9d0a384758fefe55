#include "agent/net/tls_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace sb::net {
namespace {

int MillisLeft(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 60'000));
}

void SetSocketOptions(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

}  // namespace

bool WaitFor(int fd, short events, Deadline deadline) {
  for (;;) {
    int ms = MillisLeft(deadline);
    if (ms == 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // let the next call report the error
  }
}

base::Result<int> ConnectTcp(const base::Endpoint& endpoint, Deadline deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* results = nullptr;
  std::string port = std::to_string(endpoint.port);
  int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &results);
  if (rc != 0) {
    return base::Status::Unavailable(
        fmt::format("cannot resolve {}: {}", endpoint.host, ::gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    SetSocketOptions(fd);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
      if (WaitFor(fd, POLLOUT, deadline)) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          ::freeaddrinfo(results);
          return fd;
        }
        last_error = std::strerror(err);
      } else {
        last_error = "timed out";
      }
    } else {
      last_error = std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(results);
  return base::Status::Unavailable(
      fmt::format("cannot connect to {}: {}", endpoint.ToString(), last_error));
}

// A write-only BIO that appends to a std::string (set with BIO_set_data).
int OutgoingWrite(BIO* bio, const char* data, int size) {
  static_cast<std::string*>(BIO_get_data(bio))->append(data, static_cast<size_t>(size));
  return size;
}

long OutgoingCtrl(BIO* bio, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
      return static_cast<long>(static_cast<std::string*>(BIO_get_data(bio))->size());
    default:
      return 0;
  }
}

const BIO_METHOD* OutgoingBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sb outgoing");
    BIO_meth_set_write(m, OutgoingWrite);
    BIO_meth_set_ctrl(m, OutgoingCtrl);
    return m;
  }();
  return method;
}

std::string PeerAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return addr.ss_family == AF_INET6 ? fmt::format("[{}]:{}", host, port)
                                    : fmt::format("{}:{}", host, port);
}

std::string PeerHost(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  char host[NI_MAXHOST];
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, nullptr, 0,
                    NI_NUMERICHOST) != 0) {
    return "?";
  }
  return host;
}

TlsStream::~TlsStream() { Close(); }

// Records are collected by a BIO that appends them to outgoing_ and are sent
// from there in large writes: a socket BIO makes one system call per 16 KiB
// record, which on a VM costs more than the encryption.
uint64_t TlsStream::bytes_received() const {
  return ssl_ != nullptr ? BIO_number_read(SSL_get_rbio(ssl_)) : 0;
}

base::Status TlsStream::FlushOut(Deadline deadline) {
  size_t off = 0;
  while (off < outgoing_.size()) {
    ssize_t sent = ::send(fd_, outgoing_.data() + off, outgoing_.size() - off, MSG_NOSIGNAL);
    if (sent > 0) {
      off += static_cast<size_t>(sent);
      bytes_sent_ += static_cast<uint64_t>(sent);
    } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd_, POLLOUT, deadline)) {
        outgoing_.erase(0, off);
        return base::Status::Timeout("send timed out");
      }
    } else if (sent < 0 && errno != EINTR) {
      outgoing_.clear();
      return base::Status::FromErrno("send", errno);
    }
  }
  outgoing_.clear();
  return base::Status::Ok();
}

template <typename Op>
base::Result<int> TlsStream::Drive(Op op, Deadline deadline, const char* what) {
  for (;;) {
    ERR_clear_error();
    int rc = op();
    const int op_errno = errno;  // before FlushOut's send() can change it
    int err = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
    // Whatever the call produced (records, alerts) goes out now, even when
    // it failed: a refused peer deserves the alert that says why.
    base::Status flushed = FlushOut(deadline);
    if (rc > 0) {
      if (!flushed.ok()) return flushed;
      return rc;
    }
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!WaitFor(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        return base::Status::Timeout(fmt::format("{} timed out", what));
      }
      continue;
    }
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      if (op_errno == 0 || op_errno == ECONNRESET || op_errno == EPIPE) return 0;  // peer gone
      return base::Status::FromErrno(what, op_errno);
    }
    long verify = SSL_get_verify_result(ssl_);
    std::string reason = TakeOpenSslError("TLS error");
    if (verify != X509_V_OK) {
      reason += fmt::format(" ({})", X509_verify_cert_error_string(verify));
    }
    return base::Status::PermissionDenied(fmt::format("{} failed: {}", what, reason));
  }
}

base::Result<std::unique_ptr<TlsStream>> TlsStream::Accept(int fd, const TlsContext& ctx,
                                                           const std::string& peer,
                                                           Deadline deadline) {
  SetSocketOptions(fd);
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) {
    ::close(fd);
    return base::Status::Internal(TakeOpenSslError("SSL_new failed"));
  }
  std::unique_ptr<TlsStream> stream(new TlsStream(fd, ssl, peer));
  base::Result<int> rc = stream->Drive([&] { return SSL_accept(ssl); }, deadline, "TLS handshake");
  if (!rc.ok()) return rc.status();
  if (*rc == 0) return base::Status::Unavailable("TLS handshake: the peer closed the connection");
  return stream;
}

base::Result<std::unique_ptr<TlsStream>> TlsStream::Connect(const base::Endpoint& endpoint,
                                                            const TlsContext& ctx,
                                                            const std::string& expected_name,
                                                            Deadline deadline) {
  base::Result<int> fd = ConnectTcp(endpoint, deadline);
  if (!fd.ok()) return fd.status();
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) {
    ::close(*fd);
    return base::Status::Internal(TakeOpenSslError("SSL_new failed"));
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, expected_name.c_str()) != 1) {
    SSL_free(ssl);
    ::close(*fd);
    return base::Status::Invalid(fmt::format("bad agent name \"{}\"", expected_name));
  }
  std::unique_ptr<TlsStream> stream(new TlsStream(*fd, ssl, endpoint.ToString()));
  base::Result<int> rc = stream->Drive([&] { return SSL_connect(ssl); }, deadline, "TLS handshake");
  if (!rc.ok()) return rc.status().WithContext(fmt::format("agent at {}", endpoint.ToString()));
  if (*rc == 0) {
    return base::Status::Unavailable(fmt::format(
        "agent at {}: TLS handshake: the agent closed the connection", endpoint.ToString()));
  }
  base::Status role = CheckPeerRole(ssl, PeerRole::kAgent);
  if (!role.ok()) return role.WithContext(fmt::format("agent at {}", endpoint.ToString()));
  return stream;
}

base::Result<size_t> TlsStream::Read(char* buffer, size_t size, Deadline deadline) {
  base::Result<int> rc =
      Drive([&] { return SSL_read(ssl_, buffer, static_cast<int>(size)); }, deadline, "read");
  if (!rc.ok()) return rc.status();
  return static_cast<size_t>(*rc);
}

base::Status TlsStream::Write(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    int chunk = static_cast<int>(std::min<size_t>(data.size(), 1 << 20));
    base::Result<int> rc =
        Drive([&] { return SSL_write(ssl_, data.data(), chunk); }, deadline, "write");
    if (!rc.ok()) return rc.status();
    if (*rc == 0) {
      return base::Status::Unavailable("write: connection closed");
    }
    data.remove_prefix(static_cast<size_t>(*rc));
  }
  return base::Status::Ok();
}

TlsStream::TlsStream(int fd, SSL* ssl, std::string peer)
    : fd_(fd), ssl_(ssl), peer_(std::move(peer)) {
  outgoing_.reserve(1 << 20);
  BIO* rbio = BIO_new_socket(fd, BIO_NOCLOSE);
  BIO* wbio = BIO_new(OutgoingBioMethod());
  BIO_set_data(wbio, &outgoing_);
  BIO_set_init(wbio, 1);
  SSL_set_bio(ssl_, rbio, wbio);  // the SSL owns both
}

void TlsStream::Interrupt() { ::shutdown(fd_, SHUT_RDWR); }

void TlsStream::Close() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);  // close_notify, sent if the socket takes it at once
    (void)FlushOut(Clock::now());
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace sb::net
