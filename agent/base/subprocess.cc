#include "agent/base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "agent/base/units.h"

extern char** environ;

namespace sb::base {
namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { CloseBoth(); }
  void CloseBoth() {
    for (int& f : fd) {
      if (f >= 0) ::close(f);
      f = -1;
    }
  }
  void Close(int end) {
    if (fd[end] >= 0) ::close(fd[end]);
    fd[end] = -1;
  }
};

// Builds the child's environment before fork: only async-signal-safe calls
// are allowed between fork and exec.
std::vector<std::string> ChildEnvironment(const ProcessSpec& spec) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool drop = false;
    for (const auto& [key, value] : spec.env) drop = drop || key == name;
    for (const std::string& key : spec.unset_env) drop = drop || key == name;
    if (!drop) env.emplace_back(entry);
  }
  for (const auto& [key, value] : spec.env) env.push_back(fmt::format("{}={}", key, value));
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void ExecChild(int in_fd, int out_fd, int err_fd, int report_fd, char** argv,
                            char** envp) {
  ::setpgid(0, 0);
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvpe(argv[0], argv, envp);
  int err = errno;
  ssize_t ignored = ::write(report_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

// Appends what is readable on `fd` to `sink` up to `cap`; false at EOF.
bool Drain(int fd, std::string* sink, uint64_t cap, bool* truncated) {
  char buf[16 * 1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t room = sink->size() < cap ? cap - sink->size() : 0;
  size_t take = std::min(room, static_cast<size_t>(n));
  sink->append(buf, take);
  if (take < static_cast<size_t>(n)) *truncated = true;
  return true;
}

}  // namespace

std::string ProcessResult::Describe() const {
  if (timed_out)
    return fmt::format(
        "timed out after {}",
        FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed)));
  if (term_signal != 0) return fmt::format("killed by signal {}", term_signal);
  return fmt::format("exit {}", exit_code);
}

Result<ProcessResult> RunProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return Status::Invalid("empty command line");
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<std::string> env_strings = ChildEnvironment(spec);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  Pipe in, out, err, report;
  for (Pipe* p : {&in, &out, &err, &report}) {
    if (::pipe2(p->fd, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  }
  const Clock::time_point start = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) {
    ExecChild(in.fd[0], out.fd[1], err.fd[1], report.fd[1], argv.data(), envp.data());
  }
  ::setpgid(pid, pid);  // also from the parent, so a kill cannot race the child's own call
  in.Close(0);
  out.Close(1);
  err.Close(1);
  report.Close(1);

  int exec_errno = 0;
  if (::read(report.fd[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    ::waitpid(pid, nullptr, 0);
    return Status::FromErrno(fmt::format("cannot run {}", spec.argv[0]), exec_errno);
  }
  if (spec.on_start) spec.on_start(pid);

  // Feed stdin without blocking: a child that never reads must not hang us.
  ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  size_t stdin_written = 0;
  if (spec.stdin_data.empty()) in.Close(1);

  ProcessResult result;
  const Clock::time_point deadline = start + spec.timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {in.fd[1], POLLOUT, 0}};
    if (!out_open) fds[0].fd = -1;
    if (!err_open) fds[1].fd = -1;
    int ready = ::poll(fds, 3, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (fds[0].revents)
      out_open = Drain(out.fd[0], &result.out, spec.max_output_bytes, &result.output_truncated);
    if (fds[1].revents)
      err_open = Drain(err.fd[0], &result.err, spec.max_output_bytes, &result.output_truncated);
    if (in.fd[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(in.fd[1], spec.stdin_data.data() + stdin_written,
                          spec.stdin_data.size() - stdin_written);
      if (n > 0) stdin_written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN) || stdin_written == spec.stdin_data.size()) in.Close(1);
    }
  }
  in.Close(1);

  // The streams are closed; the child may still be running (it closed them,
  // or passed them on). Wait for it, bounded by the same deadline.
  int wstatus = 0;
  if (result.timed_out) ::kill(-pid, SIGKILL);
  for (;;) {
    pid_t done = ::waitpid(pid, &wstatus, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return Status::FromErrno("waitpid", errno);
    if (!result.timed_out && Clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (result.timed_out) ::kill(-pid, SIGKILL);  // whatever the child left behind
  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  if (WIFEXITED(wstatus)) result.exit_code = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) result.term_signal = WTERMSIG(wstatus);
  return result;
}

}  // namespace sb::base
