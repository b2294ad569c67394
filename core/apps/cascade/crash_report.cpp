// What the CLI does when a plugin running in process takes it down: a
// fatal signal (segfault, abort, SIGFPE, SIGBUS, SIGILL) or exit() called
// from a stage. The engine knows which stage the crashing thread runs
// (Engine::running_stage(), async-signal-safe); these handlers name it.
// During a run the crash is then handed to the run loop
// (salvage_after_crash()): the crashing thread parks for good, never going
// back into the plugin, while the loop cancels the other turns, reports
// every finished one (records first, then result lines) and ends the
// process as the plugin would have (execute() in run_commands.cpp: the same
// signal, or _exit with the plugin's status). If the loop never gets there
// (the dead thread held a lock it needs), the parked thread ends the
// process itself after a bound. In process, a crash still ends the run:
// only `isolation = "process"` confines it to the stage's own turns.
#include "commands.hpp"

#include <cascade/core/engine.hpp>
#include <cascade/core/run.hpp>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace cascade::cli {
namespace {

// A message built in a fixed buffer with write(2) only: nothing here may
// allocate or lock (the crashing thread may hold the allocator's lock).
struct Message {
  char text[1024];
  size_t size = 0;
  void add(const char* s) {
    const size_t n = std::strlen(s);
    const size_t room = sizeof text - size;
    const size_t take = n < room ? n : room;
    std::memcpy(text + size, s, take);
    size += take;
  }
  void add_number(int v) {
    char digits[16];
    int i = 0;
    unsigned u = v < 0 ? 0u - static_cast<unsigned>(v) : static_cast<unsigned>(v);
    do {
      digits[i++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0 && i < 15);
    if (v < 0) add("-");
    char out[16];
    for (int k = 0; k < i; ++k) out[k] = digits[i - 1 - k];
    out[i] = '\0';
    add(out);
  }
  void send() const {
    for (size_t done = 0; done < size;) {
      const ssize_t w = ::write(STDERR_FILENO, text + done, size - done);
      if (w <= 0) return;
      done += static_cast<size_t>(w);
    }
  }
};

const char* signal_text(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGABRT: return "SIGABRT (abort)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGBUS: return "SIGBUS (bad memory access)";
    case SIGILL: return "SIGILL (illegal instruction)";
    default: return "a fatal signal";
  }
}

constexpr const char* kConfine =
    ". In process, a plugin's crash ends the run (the turns that finished are saved to the results and the "
    "trace first); isolation = \"process\" on that stage confines it to the stage's own turns "
    "(docs/robustness.md).\n";

// Parks the calling thread (it must not return into the plugin that broke
// it) for at most `ms`, then runs `end`: normally the run loop ends the
// process long before. nanosleep is async-signal-safe.
template <class End>
[[noreturn]] void park_then(int64_t ms, End end) {
  timespec left{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
  while (::nanosleep(&left, &left) != 0) {
  }
  end();
  ::_exit(1);  // not reached: `end` ends the process
}

[[noreturn]] void die_of(int sig) {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, nullptr);
  ::raise(sig);  // SA_NODEFER: delivered now, the default action ends the process
  ::_exit(128 + sig);
}

extern "C" void on_fatal_signal(int sig) {
  const char* stage = Engine::running_stage();
  // Not a plugin's crash (the host's own, or no stage on this thread):
  // end as the signal would have.
  if (stage == nullptr) die_of(sig);
  Message m;
  m.add("\nerror[R042]: ");
  m.add(stage);
  m.add(" crashed the process with ");
  m.add(signal_text(sig));
  m.add(kConfine);
  m.send();
  const int64_t park_ms = salvage_after_crash(sig, -1);
  if (park_ms == 0) die_of(sig);
  park_then(park_ms, [sig] { die_of(sig); });
}

extern "C" void on_process_exit(int status, void*) {
  const char* stage = Engine::running_stage();
  if (stage == nullptr) return;  // the program's own exit
  Message m;
  m.add("\nerror[R043]: ");
  m.add(stage);
  m.add(" called exit(");
  m.add_number(status);
  m.add(") inside the process: the run ends with that status");
  m.add(kConfine);
  m.send();
  // Not the rest of exit(): static destructors would run under the other
  // threads still running turns (a segfault during exit, half the time).
  const int64_t park_ms = salvage_after_crash(0, status);
  if (park_ms == 0) ::_exit(status);
  park_then(park_ms, [status] { ::_exit(status); });
}

}  // namespace

void install_crash_reports() {
  struct sigaction sa {};
  sa.sa_handler = &on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  // Not SA_RESETHAND: a second thread crashing in the same plugin while
  // the first crash is salvaged must park too, not end the process.
  sa.sa_flags = SA_NODEFER;
  for (const int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGBUS, SIGILL}) ::sigaction(sig, &sa, nullptr);
}

void report_exit_from_stages() {
  // Registered once, as late as possible (just before turns run): exit
  // handlers run in reverse order, so this one runs before the
  // destructors of everything made before it.
  static const bool once = ::on_exit(&on_process_exit, nullptr) == 0;
  (void)once;
}

}  // namespace cascade::cli
