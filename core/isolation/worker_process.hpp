// Internal to process isolation: the engine's handle on ONE worker
// process of a stage (core/isolation/worker_main.cpp): start it, exchange
// one Call for one Result within a deadline, and end it.
//
// Why processes are started by one long-lived thread (spawner, in
// worker_process.cpp): a worker asks the kernel to kill it when its parent
// goes (PR_SET_PDEATHSIG), and "parent" there means the THREAD that
// started it. Starting every worker from a thread that lives as long as
// the process keeps a scheduler thread retiring from killing its workers.
//
// Lifecycle: start() returns a running worker whose plugin instance is
// open; exchange() any number of times; after an exchange that did not
// return Ok the worker is dead or killed: end() reaps it and says how it
// ended. The destructor kills and reaps a worker still running (closing
// the socket first, so a healthy worker closes its instance and exits).
// Threading: one thread at a time per WorkerProcess (the stage's pool
// hands each to one caller); start() from any thread.
#pragma once

#include "isolation/protocol.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace cascade::isolation {

// Why a worker could not be started: `code` R050 (no worker executable, or
// it could not be spawned or died starting), R001/R002 (the plugin's
// create/open failed inside it), with the message.
struct StartError {
  std::string code;
  std::string message;
};

class WorkerProcess {
 public:
  // The worker executable: $CASCADE_STAGE_WORKER, else
  // <this executable's dir>/../lib/cascade/cascade-stage-worker (the build
  // tree and an installed prefix have the same layout).
  static std::filesystem::path executable();

  // Starts a worker and waits for its Ready until `deadline_ns` (steady
  // clock). Throws StartError.
  static std::unique_ptr<WorkerProcess> start(const Hello& hello, int64_t deadline_ns);

  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  enum class Outcome {
    Ok,         // `reply` holds the Result's body
    Died,       // the worker closed the socket or died during the call
    Broken,     // it answered something that is not a Result (broken() says what): killed
    Deadline,   // no answer by the deadline: the worker was killed
    Cancelled,  // `cancel` was set while waiting: the worker was killed
  };
  // Sends `request` (a whole Call message) and reads the Result's body into
  // `reply`. Waits until `deadline_ns` (INT64_MAX: none), polling `cancel`.
  Outcome exchange(const std::string& request, std::string& reply, int64_t deadline_ns,
                   const std::atomic<bool>& cancel);

  // After an exchange that did not return Ok: kills the worker if it still
  // runs, reaps it and describes its end ("killed by signal 11 (SIGSEGV)",
  // "exited with status 3").
  std::string end();

  [[nodiscard]] pid_t pid() const { return pid_; }
  // After Outcome::Broken: what was wrong with the bytes it sent.
  [[nodiscard]] const std::string& broken() const { return broken_; }

  // Once a message has begun, the longest wait for its next byte: the
  // worker writes each message whole, so a longer gap means the frame's
  // length lies (see exchange_raw in worker_process.cpp).
  static constexpr int64_t kFrameStallNs = int64_t{5} * 1'000'000'000;

 private:
  WorkerProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  // Waits until fd is readable (or writable) or the deadline or `cancel`.
  Outcome wait(short events, int64_t deadline_ns, const std::atomic<bool>* cancel);
  // Writes `request`, reads one message of `kind` into reply_; sets last_.
  // Kills the worker on Deadline, Cancelled and Broken.
  Outcome exchange_raw(const std::string& request, wire::Kind kind, int64_t deadline_ns,
                       const std::atomic<bool>& cancel);

  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::string broken_;  // what was wrong with an answer (Outcome::Broken)
  std::string reply_;
  Outcome last_ = Outcome::Ok;
};

// Describes a waitpid() status: "killed by signal 11 (SIGSEGV)",
// "exited with status 3".
std::string describe_wait_status(int status);

}  // namespace cascade::isolation
