// cascade/core/isolation.hpp — where a stage's plugin runs, and the limits
// of a stage run in worker processes (`isolation = "process"`, its
// [stages.process] table; docs/process-isolation.md). Plain values, shared
// by the config (config.hpp) and the plan (plan.hpp).
#pragma once

#include <cstdint>

namespace cascade {

// Where a stage's plugin runs: in the engine's process (the default), or
// in worker processes of its own, so that a crash, exit() or runaway
// allocation costs only the turns it held (core/isolation).
enum class Isolation : uint8_t { InProcess, Process };

// The [stages.process] table of a stage with isolation = "process"; the
// defaults are the documented ones.
struct ProcessOptions {
  uint32_t workers = 0;               // at most this many worker processes; 0: one per core
  uint32_t memory_mb = 0;             // address-space limit of each worker (RLIMIT_AS); 0: none
  uint32_t cpu_s = 0;                 // CPU seconds one call may use (SIGXCPU ends the worker); 0: none
  uint32_t max_payload_mb = 64;       // each input and output; 0: none
  uint32_t restart_backoff_ms = 100;  // wait before the 2nd restart in a row, doubling after
  uint32_t quarantine_after = 5;      // this many crashes ...
  uint32_t quarantine_window_s = 60;  // ... within this window quarantine the stage; 0 crashes: never
  uint32_t start_timeout_ms = 60000;  // a worker must have opened its instance by then
};

}  // namespace cascade
