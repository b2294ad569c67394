// What the CLI says when a plugin running in process takes it down: a
// fatal signal (segfault, abort, SIGFPE, SIGBUS, SIGILL) or exit() called
// from a stage. The engine knows which stage the crashing thread runs
// (Engine::running_stage(), async-signal-safe); these handlers name it,
// then let the process end as it would have (re-raise with the default
// action, or _exit with the plugin's status). In process, a crash ends the
// run: only `isolation = "process"` confines it to the stage's own turns.
#include "commands.hpp"

#include <cascade/core/engine.hpp>

#include <csignal>
#include <cstdlib>
#include <cstring>
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
    ". In process, a plugin's crash ends the run (the turns reported so far are in the results and the "
    "trace); isolation = \"process\" on that stage confines it to the stage's own turns (docs/robustness.md).\n";

extern "C" void on_fatal_signal(int sig) {
  // SA_RESETHAND has restored the default action: re-raising below ends the
  // process as the signal would have (core dump, exit status 128+sig).
  if (const char* stage = Engine::running_stage(); stage != nullptr) {
    Message m;
    m.add("\nerror[R042]: ");
    m.add(stage);
    m.add(" crashed the process with ");
    m.add(signal_text(sig));
    m.add(kConfine);
    m.send();
  }
  ::raise(sig);
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
  ::_exit(status);
}

}  // namespace

void install_crash_reports() {
  struct sigaction sa {};
  sa.sa_handler = &on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
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
