// A live worker that breaks the protocol: its plugin (fixture_faulty, mode
// "scribble") writes junk on the worker's socket to the engine during a
// call, then returns normally, so the worker's own Result follows the
// junk. The engine must take that call's turns as `crashed` with a
// protocol error, kill and restart the worker, keep the other turns
// flowing, and neither read past a frame nor allocate by a lying length.
// (The codec alone, without a process: protocol_test.cpp.)
#include "isolation_fixture.hpp"
#include "pipeline_fixture.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <string>

using namespace cascade;
using trace::StageStatus;

namespace {

using cascade::test_support::run_traced;
using cascade::test_support::Traced;
using namespace cascade::test_support::isolation;

// The turns that scribbled are crashed with `what` in their worker_end;
// every other turn came out right through the restarted worker (one
// worker, so each turn after a scribbling one needed a new worker).
void expect_protocol_errors(const std::string& scribble, const std::string& what, size_t turns = 9) {
  SCOPED_TRACE("scribble = " + scribble);
  const auto f = load("prefix = \"p:\", mode = \"scribble\", trigger = \"junk\", scribble = \"" + scribble + "\"",
                      "workers = 1\nrestart_backoff_ms = 1\nquarantine_after = 0");
  const auto in = texts(turns, "junk", 3);
  const Traced r = run_traced(f.plan, in, 1);
  expect_only_bad_turns_lost(r, in, "junk", StageStatus::Crashed, "broke the protocol");
  for (size_t i = 0; i < in.size(); ++i) {
    if (!is_bad(in[i], "junk")) continue;
    const std::string end(r.data.find_seq(i)->stage("faulty")->text_feature("worker_end").value_or(""));
    EXPECT_EQ(end.rfind("protocol error: ", 0), 0u) << i << ": " << end;
    EXPECT_NE(end.find(what), std::string::npos) << i << ": " << end;
  }
}

TEST(ProcessIsolationProtocol, JunkInsteadOfAHeaderIsAProtocolError) {
  expect_protocol_errors("header", "bad message magic");
}

// The frame's declared body is cut short by the worker's own Result: what
// is read as the rest of the body does not decode.
TEST(ProcessIsolationProtocol, ATruncatedFrameIsAProtocolError) {
  expect_protocol_errors("truncated", "Result holds another number of turns");
}

// A header claiming 64 GiB: the engine must not size a buffer by it, and
// must not wait for the rest forever (the stage has no deadline) once the
// worker's real Result, read as the start of that body, has ended (it
// waits WorkerProcess::kFrameStallNs for more: one such turn here).
TEST(ProcessIsolationProtocol, ALyingLengthAllocatesNothingAndDoesNotHang) {
  expect_protocol_errors("length", "its length lies", 5);
  rusage u{};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &u), 0);
  EXPECT_LT(u.ru_maxrss, 1L << 20) << "peak resident KiB of this test process";  // 1 GiB; the lie was 64 GiB
}

// In the engine's own process the fixture refuses to scribble (the sockets
// there are the engine's): an error, not a write on someone else's socket.
TEST(ProcessIsolationProtocol, TheFixtureScribblesOnlyInAWorker) {
  auto f = load("prefix = \"p:\", mode = \"scribble\", trigger = \"junk\"");
  f.plan.stages[1].isolation = Isolation::InProcess;
  const auto in = texts(4, "junk", 2);
  expect_only_bad_turns_lost(run_traced(f.plan, in, 1), in, "junk", StageStatus::Error, "only in a stage worker");
}

}  // namespace
