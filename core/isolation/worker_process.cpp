// One worker process, seen from the engine (see worker_process.hpp).
#include "isolation/worker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

extern char** environ;

namespace cascade::isolation {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs jobs on one thread that lives as long as the process (see the
// header: PR_SET_PDEATHSIG is tied to the starting thread).
class Spawner {
 public:
  static Spawner& instance() {
    static auto* s = new Spawner();  // never destroyed: its thread outlives main()
    return *s;
  }
  void run(const std::function<void()>& job) {
    std::unique_lock lock(m_);
    bool done = false;
    jobs_.push_back([&] {
      job();
      std::lock_guard l(m_);
      done = true;
      cv_.notify_all();
    });
    cv_.notify_all();
    cv_.wait(lock, [&] { return done; });
  }

 private:
  Spawner() {
    std::thread([this] {
      std::unique_lock lock(m_);
      for (;;) {
        cv_.wait(lock, [&] { return !jobs_.empty(); });
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        job();
        lock.lock();
      }
    }).detach();
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
};

// posix_spawn of the worker with its socket as fd 3, stdin from /dev/null
// and stdout onto stderr (a plugin's printf must not land among the
// results), in its own process group (a terminal's Ctrl-C is the host's
// to handle), with default signal dispositions.
pid_t spawn_worker(const std::filesystem::path& exe, int child_fd, std::string& error) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  posix_spawn_file_actions_adddup2(&fa, child_fd, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGXCPU, SIGCHLD})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  const std::string path = exe.string();
  char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, path.c_str(), &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    error = "cannot start the stage worker " + path + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

}  // namespace

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) + (abbrev != nullptr ? " (SIG" + std::string(abbrev) + ")" : "");
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

std::filesystem::path WorkerProcess::executable() {
  if (const char* env = std::getenv("CASCADE_STAGE_WORKER"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (exe.parent_path() / ".." / "lib" / "cascade" / "cascade-stage-worker").lexically_normal();
}

std::unique_ptr<WorkerProcess> WorkerProcess::start(const Hello& hello, int64_t deadline_ns) {
  const std::filesystem::path exe = executable();
  if (exe.empty() || ::access(exe.c_str(), X_OK) != 0)
    throw StartError{"R050", "no stage worker executable at '" + exe.string() +
                                 "' (isolation = \"process\" needs it; set CASCADE_STAGE_WORKER to its path)"};
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw StartError{"R050", std::string("cannot make the worker's socket: ") + std::strerror(errno)};
  pid_t pid = -1;
  std::string error;
  Spawner::instance().run([&] { pid = spawn_worker(exe, fds[1], error); });
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    throw StartError{"R050", error};
  }
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  std::unique_ptr<WorkerProcess> w(new WorkerProcess(pid, fds[0]));
  std::string msg;
  encode(msg, hello);
  static const std::atomic<bool> never{false};
  auto fail = [&](const std::string& why) {
    throw StartError{"R050", "stage '" + hello.stage_id + "': its worker process " + why};
  };
  if (w->exchange_raw(msg, wire::Kind::Ready, deadline_ns, never) != Outcome::Ok) {
    const Outcome o = w->last_;
    if (o == Outcome::Deadline) fail("did not open the plugin in time (killed)");
    fail(w->broken_.empty() ? w->end() + " while starting" : "answered wrongly: " + w->broken_);
  }
  const Ready ready = [&] {
    try {
      return decode_ready(w->reply_);
    } catch (const wire::WireError& e) {
      fail(std::string("answered wrongly: ") + e.what());
    }
    return Ready{};
  }();
  if (!ready.ok) throw StartError{ready.code.empty() ? "R050" : ready.code, ready.message};
  return w;
}

WorkerProcess::~WorkerProcess() {
  if (fd_ >= 0) ::close(fd_);  // a healthy worker sees EOF, closes its instance, exits
  if (reaped_ || pid_ < 0) return;
  // A moment for that, then no more waiting.
  for (int i = 0; i < 200; ++i) {
    if (::waitpid(pid_, &wait_status_, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &wait_status_, 0);
}

WorkerProcess::Outcome WorkerProcess::wait(short events, int64_t deadline_ns, const std::atomic<bool>* cancel) {
  for (;;) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return Outcome::Cancelled;
    int timeout_ms = 50;  // how often `cancel` is looked at
    if (deadline_ns != INT64_MAX) {
      const int64_t left = deadline_ns - now_ns();
      if (left <= 0) return Outcome::Deadline;
      timeout_ms = static_cast<int>(std::min<int64_t>(timeout_ms, (left + 999'999) / 1'000'000));
    }
    pollfd p{fd_, events, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR) return Outcome::Died;
    if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0 ? Outcome::Ok : Outcome::Died;
  }
}

WorkerProcess::Outcome WorkerProcess::exchange(const std::string& request, std::string& reply, int64_t deadline_ns,
                                               const std::atomic<bool>& cancel) {
  const Outcome o = exchange_raw(request, wire::Kind::Result, deadline_ns, cancel);
  if (o == Outcome::Ok) reply.swap(reply_);
  return o;
}

// Writes `request`, reads one message of `kind` into reply_. Sets last_.
//
// The worker's plugin shares the worker's process, so it can write on the
// socket too (a stray write on a descriptor it found): what arrives is
// checked as a stream that may hold junk. Three rules keep junk from
// costing more than the call:
// - a header that is not a `kind` header ends the call at once;
// - the body is never sized by the header alone: reply_ grows as bytes
//   arrive (at most twice what came), so a length that lies allocates
//   nothing it did not receive;
// - a frame that was begun must keep coming: the worker writes each
//   message whole, so kFrameStallNs without a byte in the middle of one
//   means its length lied (the real bytes were taken for its body, and
//   the worker waits for the next Call while we wait for the rest).
// Reads stop at the frame's end: nothing after it is taken.
WorkerProcess::Outcome WorkerProcess::exchange_raw(const std::string& request, wire::Kind kind, int64_t deadline_ns,
                                                   const std::atomic<bool>& cancel) {
  auto done = [&](Outcome o) {
    last_ = o;
    if (o != Outcome::Ok && o != Outcome::Died) ::kill(pid_, SIGKILL);
    return o;
  };
  auto broken = [&](std::string why) {
    broken_ = std::move(why);
    return done(Outcome::Broken);
  };
  broken_.clear();
  // Write, waiting for room when the socket buffer is full.
  size_t off = 0;
  while (off < request.size()) {
    const ssize_t w = ::send(fd_, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (const Outcome o = wait(POLLOUT, deadline_ns, &cancel); o != Outcome::Ok) return done(o);
      continue;
    }
    return done(Outcome::Died);
  }
  // Read the header, then the body.
  constexpr size_t kFirstRead = size_t{64} << 10;  // what a body gets before its bytes show it needs more
  char header[wire::kHeaderSize];
  size_t got = 0;
  uint64_t body = 0;
  bool in_body = false;
  int64_t last_byte_ns = 0;  // when the frame under way last grew
  for (;;) {
    if (!in_body && got == wire::kHeaderSize) {
      try {
        body = wire::parse_header(header, kind);
      } catch (const wire::WireError& e) {
        return broken(e.what());
      }
      reply_.clear();
      in_body = true;
      got = 0;
    }
    if (in_body && got == body) return done(Outcome::Ok);
    if (in_body && got == reply_.size())
      reply_.resize(static_cast<size_t>(std::min<uint64_t>(body, std::max<uint64_t>(kFirstRead, uint64_t{got} * 2))));
    char* dst = in_body ? reply_.data() + got : header + got;
    const size_t want = (in_body ? reply_.size() : wire::kHeaderSize) - got;
    const ssize_t r = ::read(fd_, dst, want);
    if (r > 0) {
      got += static_cast<size_t>(r);
      last_byte_ns = now_ns();
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const bool mid_frame = in_body || got > 0;
      const int64_t stall_at = mid_frame ? last_byte_ns + kFrameStallNs : INT64_MAX;
      const Outcome o = wait(POLLIN, std::min(deadline_ns, stall_at), &cancel);
      if (o == Outcome::Deadline && stall_at < deadline_ns)
        return broken(in_body ? "a message stopped " + std::to_string(got) + " bytes into a body of " +
                                    std::to_string(body) + " (its length lies)"
                              : "a message stopped " + std::to_string(got) + " bytes into its header");
      if (o != Outcome::Ok) return done(o);
      continue;
    }
    return done(Outcome::Died);  // EOF or error: the worker is gone
  }
}

std::string WorkerProcess::end() {
  if (!reaped_) {
    // A worker that closed its socket is exiting: give it a moment to say
    // how before killing it.
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = ::waitpid(pid_, &wait_status_, WNOHANG) != 0;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!gone) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &wait_status_, 0);
    }
    reaped_ = true;
  }
  return describe_wait_status(wait_status_);
}

}  // namespace cascade::isolation
