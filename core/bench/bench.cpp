// cascade-bench — scheduler and tracing overhead, measured side by side in
// ONE run against a floor and two oneTBB peers (docs/performance.md).
//
//   floor            5 non-inlined direct calls per turn, one thread
//   flow_graph       oneTBB flow_graph: a chain of 5 function_nodes
//   parallel_pipeline oneTBB parallel_pipeline: 5 parallel filters, 16 tokens
//   cascade          the engine: 5 `noop` stages loaded from .so files,
//                    batches of max_in_flight turns: tracing off; clock
//                    reads only; tracing in memory (chunks go to /dev/null);
//                    tracing into a file (each batch handed to the writer
//                    after it and waited for after the next, as `cascade run`)
//   micro-batched    the same engine with micro_batch = 64 (--micro-batch):
//                    each stage runs for 64 turns before the next starts,
//                    one process_batch call each (ABI 1.2): tracing off at 1
//                    and 2 threads, tracing in memory at 2; and with
//                    `passthrough` stages, whose process() the SDK calls
//                    once a turn inside each batch call
//
// Every way of running is timed once per ROUND, all ways in each of
// --repeat rounds after an unrecorded warm-up round (interleaved, not one
// way's runs back to back), so a slow spell of a shared machine does not
// fall on one row only. Each row reports its median and its best round,
// each ratio the floor's figure of the same kind. The last line is
// key=value pairs for scripts.
#include <cascade/core/engine.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/trace/writer.hpp>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

constexpr int kStages = 5;

// The floor's unit of work: what a no-op stage does (pass a pointer on).
[[gnu::noinline]] const void* stage_fn(const void* p) {
  asm volatile("" : : "r"(p) : "memory");
  return p;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One way of running `turns` turns, and its ns/stage in each round.
struct Way {
  const char* name;
  std::function<void()> body;
  std::vector<double> ns;
  // It wrote a trace file: its dirty pages are written back (sync(2),
  // untimed) before the next way runs, so that way does not pay for the
  // kernel's writeback.
  bool writes_file = false;
};

}  // namespace

static int bench_main(int argc, char** argv) {
  CLI::App app{"cascade-bench: scheduler and tracing overhead vs a direct-call floor and oneTBB peers"};
  uint64_t turns = 1'000'000;
  int repeat = 9;
  uint32_t in_flight = 4096;
  std::string plugin_dir = PluginRegistry::builtin_dir().string();
  std::string trace_path = (fs::temp_directory_path() / "cascade-bench.cas").string();
  app.add_option("--turns", turns, "Turns per way and round");
  app.add_option("--repeat", repeat, "Rounds: every way runs once per round; medians over rounds are reported");
  app.add_option("--max-in-flight", in_flight, "Turns per batch");
  uint32_t micro_batch = 64;
  app.add_option("--micro-batch", micro_batch, "Turns per stage-major micro-batch in the micro-batched ways");
  app.add_option("--plugin-dir", plugin_dir, "Where cascade-noop.so is");
  app.add_option("--trace", trace_path, "Trace file written when tracing is on");
  bool each_round = false;
  app.add_flag("--each-round", each_round, "Also print every round's ns/stage");
  std::string only;
  app.add_option("--only", only, "Run only the ways whose name contains this (and the floor): for profilers");
  CLI11_PARSE(app, argc, argv);

  // ---- floor: 5 direct calls per turn
  const int dummy = 0;
  auto floor = [&] {
    const void* p = &dummy;
    for (uint64_t t = 0; t < turns; ++t)
      for (int s = 0; s < kStages; ++s) p = stage_fn(p);
    asm volatile("" : : "r"(p) : "memory");
  };

  // ---- the oneTBB peers, in an arena of `threads`
  auto flow_graph = [&](oneapi::tbb::task_arena& arena) {
    arena.execute([&] {
      using namespace oneapi::tbb::flow;
      graph g;
      uint64_t n = 0;
      input_node<const void*> src(g, [&](oneapi::tbb::flow_control& fc) -> const void* {
        if (n++ >= turns) fc.stop();
        return &dummy;
      });
      std::vector<std::unique_ptr<function_node<const void*, const void*>>> nodes;
      nodes.reserve(kStages);
      for (int s = 0; s < kStages; ++s)
        nodes.push_back(std::make_unique<function_node<const void*, const void*>>(
            g, unlimited, [](const void* p) { return stage_fn(p); }));
      make_edge(src, *nodes[0]);
      for (int s = 1; s < kStages; ++s) make_edge(*nodes[s - 1], *nodes[s]);
      src.activate();
      g.wait_for_all();
    });
  };
  auto pipeline = [&](oneapi::tbb::task_arena& arena) {
    arena.execute([&] {
      uint64_t n = 0;
      // Tokens are plain integers: parallel_pipeline wants a non-const payload type.
      auto f = oneapi::tbb::make_filter<void, uintptr_t>(oneapi::tbb::filter_mode::serial_in_order,
                                                         [&](oneapi::tbb::flow_control& fc) -> uintptr_t {
                                                           if (n++ >= turns) fc.stop();
                                                           return reinterpret_cast<uintptr_t>(&dummy);
                                                         });
      auto mid = oneapi::tbb::make_filter<uintptr_t, uintptr_t>(
          oneapi::tbb::filter_mode::parallel,
          // NOLINTNEXTLINE(performance-no-int-to-ptr): the token is the pointer, round-tripped
          [](uintptr_t p) { return reinterpret_cast<uintptr_t>(stage_fn(reinterpret_cast<const void*>(p))); });
      auto last = oneapi::tbb::make_filter<uintptr_t, void>(
          oneapi::tbb::filter_mode::parallel,
          // NOLINTNEXTLINE(performance-no-int-to-ptr): the token is the pointer, round-tripped
          [](uintptr_t p) { stage_fn(reinterpret_cast<const void*>(p)); });
      oneapi::tbb::parallel_pipeline(16, f & mid & mid & mid & mid & last);
    });
  };
  oneapi::tbb::task_arena arena1(1), arena2(2);

  // ---- the engine: 5 noop stages from .so files
  PluginRegistry reg;
  const LoadedPlugin& noop = reg.load(fs::path(plugin_dir) / "cascade-noop.so");
  // passthrough: the same forward, without a process_batch of its own (the
  // SDK calls its process() once a turn inside a batch call).
  const LoadedPlugin& passthrough = reg.load(fs::path(plugin_dir) / "cascade-passthrough.so");
  PipelinePlan plan, per_turn_plan;
  plan.name = "bench";
  for (int s = 0; s < kStages; ++s) {
    StagePlan sp;
    sp.id = "s" + std::to_string(s);
    sp.plugin = &noop;
    Binding b;
    if (s == 0) {
      b.kind = Binding::Kind::TurnInput;
    } else {
      b.kind = Binding::Kind::StageOutput;
      b.stage = static_cast<uint32_t>(s - 1);
    }
    sp.inputs.push_back(b);
    plan.stages.push_back(sp);
  }
  plan.result = {Binding::Kind::StageOutput, kStages - 1, 0};
  per_turn_plan = plan;
  for (auto& sp : per_turn_plan.stages) sp.plugin = &passthrough;
  std::vector<TurnInput> batch(in_flight);
  for (uint32_t i = 0; i < in_flight; ++i) {
    batch[i].dialogue_id = "bench";
    batch[i].turn_seq = i;
    batch[i].payload_type = CASCADE_PAYLOAD_TEXT;
    batch[i].payload = "turn on the lights";
  }
  std::vector<TurnOutcome> out(in_flight);
  // An engine and its writer live through every round. tracing: 0 off,
  // 1 into a trace file, 2 in memory (the background thread writes the
  // chunks to /dev/null: encoding and hand-off only), 3 no trace but the
  // per-stage clock reads a trace needs.
  struct Run {
    std::unique_ptr<trace::Writer> writer;
    std::unique_ptr<Engine> engine;
  };
  std::vector<std::string> trace_files;
  auto make_engine = [&](int threads, int tracing, uint32_t micro = 1, const PipelinePlan* p = nullptr) {
    Run r;
    if (tracing == 1) {
      trace_files.push_back(trace_path + (threads == 1 ? "" : "." + std::to_string(threads) + "t"));
      fs::remove_all(trace_files.back());
      r.writer = std::make_unique<trace::Writer>(trace::WriterOptions{.path = trace_files.back()});
    } else if (tracing == 2) {
      r.writer = std::make_unique<trace::Writer>(trace::WriterOptions{.path = "/dev/null"});
    }
    r.engine = std::make_unique<Engine>(p != nullptr ? *p : plan, EngineOptions{.threads = static_cast<uint32_t>(threads),
                                                            .trace = r.writer.get(),
                                                            .measure_latency = tracing == 3,
                                                            .micro_batch = micro});
    return r;
  };
  // As `cascade run` does (core/run/loop.cpp): a batch's records are
  // handed over after it, and waited for after the next batch ran.
  auto run_engine = [&](Run& r) {
    uint64_t ticket = 0;
    for (uint64_t done = 0; done < turns; done += in_flight) {
      const size_t n = std::min<uint64_t>(in_flight, turns - done);
      r.engine->run_batch({batch.data(), n}, {out.data(), n});
      if (r.writer) {
        if (done > 0) r.writer->wait_flushed(ticket);
        ticket = r.writer->begin_flush();
      }
    }
    if (r.writer) r.writer->wait_flushed(ticket);
  };
  Run off1 = make_engine(1, 0), off2 = make_engine(2, 0), clock1 = make_engine(1, 3), mem1 = make_engine(1, 2),
      on1 = make_engine(1, 1), on2 = make_engine(2, 1), mb1 = make_engine(1, 0, micro_batch),
      mb2 = make_engine(2, 0, micro_batch), mbmem2 = make_engine(2, 2, micro_batch),
      mbturn1 = make_engine(1, 0, micro_batch, &per_turn_plan);

  // The engine rows that are subtracted from each other run next to each
  // other, and next to the floor. `ways` lists them in this order.
  enum {
    kFloor,
    kOff1,
    kClock1,
    kMem1,
    kOn1,
    kOff2,
    kOn2,
    kBatch1,
    kBatch2,
    kBatchMem2,
    kBatchPerTurn1,
    kFlowGraph1,
    kFlowGraph2,
    kPipeline1,
    kPipeline2,
    kWays
  };
  std::vector<Way> ways{
      {"floor: 5 direct calls", floor, {}},
      {"cascade, tracing off, 1 thread", [&] { run_engine(off1); }, {}},
      {"cascade, clock reads only, 1 thread", [&] { run_engine(clock1); }, {}},
      {"cascade, tracing in memory, 1 thread", [&] { run_engine(mem1); }, {}},
      {"cascade, tracing on, 1 thread", [&] { run_engine(on1); }, {}, true},
      {"cascade, tracing off, 2 threads", [&] { run_engine(off2); }, {}},
      {"cascade, tracing on, 2 threads", [&] { run_engine(on2); }, {}, true},
      {"cascade micro-batched, off, 1 thread", [&] { run_engine(mb1); }, {}},
      {"cascade micro-batched, off, 2 threads", [&] { run_engine(mb2); }, {}},
      // In memory: a third trace file per round would slow the other
      // traced ways through the page cache (one is written per round and
      // thread count already).
      {"cascade micro-batched, in mem, 2 threads", [&] { run_engine(mbmem2); }, {}},
      {"  the same, process() once a turn, 1t", [&] { run_engine(mbturn1); }, {}},
      {"oneTBB flow_graph, 1 thread", [&] { flow_graph(arena1); }, {}},
      {"oneTBB flow_graph, 2 threads", [&] { flow_graph(arena2); }, {}},
      {"tbb::parallel_pipeline, 1 thread", [&] { pipeline(arena1); }, {}},
      {"tbb::parallel_pipeline, 2 threads", [&] { pipeline(arena2); }, {}},
  };
  if (ways.size() != kWays) throw std::logic_error("cascade-bench: `ways` and its enum disagree");
  // A first round unrecorded: it grows the engines' turn pools and the
  // writers' buffers, and faults their pages in.
  const auto rounds = static_cast<size_t>(std::max(repeat, 1));
  auto wanted = [&](const Way& w) { return &w == &ways[0] || std::string_view(w.name).find(only) != std::string_view::npos; };
  // Runs a way once: its ns/stage.
  auto run_way = [&](Way& w) {
    const double t0 = now_s();
    w.body();
    const double ns = (now_s() - t0) * 1e9 / static_cast<double>(turns * kStages);
    if (w.writes_file) ::sync();
    return ns;
  };
  for (auto& w : ways)
    if (wanted(w)) run_way(w);
  for (size_t r = 0; r < rounds; ++r)
    for (auto& w : ways) w.ns.push_back(wanted(w) ? run_way(w) : std::numeric_limits<double>::quiet_NaN());
  for (Run* r : {&mem1, &on1, &on2, &mbmem2}) r->writer->close();
  const uint64_t trace_bytes = on1.writer->stats().bytes;

  // Two estimates per way: its MEDIAN round (performance.md's rule) and
  // its BEST round. Noise on a shared machine only ever adds time, so the
  // minimum is the robust estimate of what the code itself costs (Chen &
  // Revels 2016, "Robust benchmarking in noisy environments"). A ratio
  // divides by the floor's estimate of the same kind.
  auto best = [&](int w) { return *std::min_element(ways[w].ns.begin(), ways[w].ns.end()); };
  auto mid = [&](int w) { return median(ways[w].ns); };
  const double floor_best = best(kFloor), floor_mid = mid(kFloor);
  std::printf("cascade-bench: %llu turns x %d stages, %zu rounds (every way once per round), batches of %u turns\n",
              static_cast<unsigned long long>(turns), kStages, rounds, in_flight);
  std::printf("%-38s %10s %8s %9s %8s %14s\n", "way of running it", "median ns", "x floor", "best ns", "x floor",
              "turns/s median");
  for (int w = 0; w < static_cast<int>(ways.size()); ++w)
    std::printf("%-38s %10.2f %8.1f %9.2f %8.1f %14.3g\n", ways[w].name, mid(w), mid(w) / floor_mid, best(w),
                best(w) / floor_best, 1e9 / (mid(w) * kStages));
  if (each_round) {
    std::printf("ns/stage in each round:\n");
    for (const auto& w : ways) {
      std::printf("%-38s", w.name);
      for (double v : w.ns) std::printf(" %6.2f", v);
      std::printf("\n");
    }
  }
  // How steady the machine was: the widest spread of the rounds of the
  // engine's ways (the goals' rows; the peers at 2 threads are erratic on
  // their own). Above 1.3x the medians say more about the machine than
  // about the code.
  double spread = 1;
  int widest = kOff1;
  for (int w = kOff1; w <= kBatchPerTurn1; ++w) {
    if (!wanted(ways[w])) continue;
    const double s = *std::max_element(ways[w].ns.begin(), ways[w].ns.end()) / best(w);
    if (s > spread) {
      spread = s;
      widest = w;
    }
  }
  if (spread > 1.3)
    std::printf("unsteady machine: the rounds of \"%s\" spread %.1fx (best %.2f ns); read the best rounds, or "
                "rerun when it is quiet (--each-round shows every round)\n",
                ways[widest].name, spread, best(widest));
  std::printf("trace written: %.1f MB (%.0f bytes/turn)\n", static_cast<double>(trace_bytes) / 1e6,
              static_cast<double>(trace_bytes) / static_cast<double>(turns * (rounds + 1)));
  // A stage record's cost: what tracing adds per stage (one record and one
  // clock read per stage; the turn record is shared among the 5 stages).
  const double rec_best = best(kMem1) - best(kOff1), rec_mid = mid(kMem1) - mid(kOff1);
  auto record_line = [&](const char* which, double rec, double fl, double clk, double per) {
    std::printf("per stage record, %s rounds: %.2f ns in memory = %.1fx floor (of which clock reads %.2f ns), %.2f ns "
                "persisted\n",
                which, rec, rec / fl, clk, per);
  };
  record_line("median", rec_mid, floor_mid, mid(kClock1) - mid(kOff1), mid(kOn1) - mid(kOff1));
  record_line("best", rec_best, floor_best, best(kClock1) - best(kOff1), best(kOn1) - best(kOff1));
  // The key=value line: medians first (performance.md: "the median"),
  // then the best rounds.
  std::printf("scheduler_x_floor=%.2f trace_x_floor=%.2f record_x_floor=%.2f two_thread_speedup=%.2f "
              "turns_per_s_2t=%.3g scheduler_batched_x_floor=%.2f two_thread_speedup_batched=%.2f "
              "turns_per_s_2t_batched_mem=%.3g scheduler_batched_per_turn_x_floor=%.2f scheduler_x_floor_best=%.2f "
              "record_x_floor_best=%.2f "
              "two_thread_speedup_best=%.2f turns_per_s_2t_best=%.3g scheduler_batched_x_floor_best=%.2f "
              "turns_per_s_2t_batched_mem_best=%.3g flow_graph_x_floor=%.1f parallel_pipeline_x_floor=%.1f "
              "floor_ns=%.2f micro_batch=%u round_spread=%.2f\n",
              mid(kOff1) / floor_mid, mid(kOn1) / floor_mid, rec_mid / floor_mid, mid(kOff1) / mid(kOff2),
              1e9 / (mid(kOn2) * kStages), mid(kBatch1) / floor_mid, mid(kBatch1) / mid(kBatch2),
              1e9 / (mid(kBatchMem2) * kStages), mid(kBatchPerTurn1) / floor_mid, best(kOff1) / floor_best,
              rec_best / floor_best,
              best(kOff1) / best(kOff2), 1e9 / (best(kOn2) * kStages), best(kBatch1) / floor_best,
              1e9 / (best(kBatchMem2) * kStages), mid(kFlowGraph1) / floor_mid, mid(kPipeline1) / floor_mid, floor_mid,
              micro_batch, spread);
  for (const auto& f : trace_files) fs::remove_all(f);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return bench_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cascade-bench: %s\n", e.what());
    return 1;
  }
}
