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
//
// Prints ns per stage, the ratio to the floor, turns/s; median of
// --repeat runs. The last line is key=value pairs for scripts.
#include <cascade/core/engine.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/trace/writer.hpp>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

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

// Runs `body` (which processes `turns` turns) `repeat` times; median ns/stage.
double measure(int repeat, uint64_t turns, const std::function<void()>& body) {
  std::vector<double> ns;
  for (int r = 0; r < repeat; ++r) {
    const double t0 = now_s();
    body();
    ns.push_back((now_s() - t0) * 1e9 / static_cast<double>(turns * kStages));
  }
  return median(ns);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cascade-bench: scheduler and tracing overhead vs a direct-call floor and oneTBB peers"};
  uint64_t turns = 2'000'000;
  int repeat = 5;
  uint32_t in_flight = 4096;
  std::string plugin_dir = PluginRegistry::builtin_dir().string();
  std::string trace_path = (fs::temp_directory_path() / "cascade-bench.cas").string();
  app.add_option("--turns", turns, "Turns per measurement");
  app.add_option("--repeat", repeat, "Runs per measurement (the median is reported)");
  app.add_option("--max-in-flight", in_flight, "Turns per batch");
  app.add_option("--plugin-dir", plugin_dir, "Where cascade-noop.so is");
  app.add_option("--trace", trace_path, "Trace file written when tracing is on");
  CLI11_PARSE(app, argc, argv);

  // ---- floor: 5 direct calls per turn
  const int dummy = 0;
  const double floor_ns = measure(repeat, turns, [&] {
    const void* p = &dummy;
    for (uint64_t t = 0; t < turns; ++t)
      for (int s = 0; s < kStages; ++s) p = stage_fn(p);
    asm volatile("" : : "r"(p) : "memory");
  });

  auto peers = [&](int threads, double& fg, double& pp) {
    oneapi::tbb::task_arena arena(threads);
    fg = measure(repeat, turns, [&] {
      arena.execute([&] {
        using namespace oneapi::tbb::flow;
        graph g;
        uint64_t n = 0;
        input_node<const void*> src(g, [&](oneapi::tbb::flow_control& fc) -> const void* {
          if (n++ >= turns) fc.stop();
          return &dummy;
        });
        std::vector<std::unique_ptr<function_node<const void*, const void*>>> nodes;
        for (int s = 0; s < kStages; ++s)
          nodes.push_back(std::make_unique<function_node<const void*, const void*>>(
              g, unlimited, [](const void* p) { return stage_fn(p); }));
        make_edge(src, *nodes[0]);
        for (int s = 1; s < kStages; ++s) make_edge(*nodes[s - 1], *nodes[s]);
        src.activate();
        g.wait_for_all();
      });
    });
    pp = measure(repeat, turns, [&] {
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
            [](uintptr_t p) { return reinterpret_cast<uintptr_t>(stage_fn(reinterpret_cast<const void*>(p))); });
        auto last = oneapi::tbb::make_filter<uintptr_t, void>(oneapi::tbb::filter_mode::parallel,
                                                              [](uintptr_t p) { stage_fn(reinterpret_cast<const void*>(p)); });
        oneapi::tbb::parallel_pipeline(16, f & mid & mid & mid & mid & last);
      });
    });
  };

  // ---- the engine: 5 noop stages from .so files
  PluginRegistry reg;
  const LoadedPlugin& noop = reg.load(fs::path(plugin_dir) / "cascade-noop.so");
  PipelinePlan plan;
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
  std::vector<TurnInput> batch(in_flight);
  for (uint32_t i = 0; i < in_flight; ++i) {
    batch[i].dialogue_id = "bench";
    batch[i].turn_seq = i;
    batch[i].payload_type = CASCADE_PAYLOAD_TEXT;
    batch[i].payload = "turn on the lights";
  }
  std::vector<TurnOutcome> out(in_flight);
  uint64_t trace_bytes = 0;
  // tracing: 0 off, 1 into the trace file, 2 in memory (the background
  // thread writes the chunks to /dev/null: encoding and hand-off only),
  // 3 no trace but the per-stage clock reads a trace needs.
  auto engine = [&](int threads, int tracing) {
    std::unique_ptr<trace::Writer> w;
    if (tracing == 1) {
      fs::remove_all(trace_path);
      w = std::make_unique<trace::Writer>(trace::WriterOptions{.path = trace_path});
    } else if (tracing == 2) {
      w = std::make_unique<trace::Writer>(trace::WriterOptions{.path = "/dev/null"});
    }
    Engine e(plan, {.threads = static_cast<uint32_t>(threads), .trace = w.get(), .measure_latency = tracing == 3});
    const double ns = measure(repeat, turns, [&] {
      // As `cascade run` does (core/run/loop.cpp): a batch's records are
      // handed over after it, and waited for after the next batch ran.
      uint64_t ticket = 0;
      for (uint64_t done = 0; done < turns; done += in_flight) {
        const size_t n = std::min<uint64_t>(in_flight, turns - done);
        e.run_batch({batch.data(), n}, {out.data(), n});
        if (w) {
          if (done > 0) w->wait_flushed(ticket);
          ticket = w->begin_flush();
        }
      }
      if (w) w->wait_flushed(ticket);
    });
    if (w) {
      w->close();
      if (tracing == 1) trace_bytes = w->stats().bytes;
    }
    return ns;
  };

  double fg1, pp1, fg2, pp2;
  peers(1, fg1, pp1);
  peers(2, fg2, pp2);
  const double e1 = engine(1, 0), e2 = engine(2, 0);
  const double c1 = engine(1, 3), m1 = engine(1, 2);
  const double t1 = engine(1, 1), t2 = engine(2, 1);
  const double turns_per_s = 1e9 / (t2 * kStages);

  std::printf("cascade-bench: %llu turns x %d stages, median of %d runs, batches of %u turns\n",
              static_cast<unsigned long long>(turns), kStages, repeat, in_flight);
  std::printf("%-34s %10s %10s %14s\n", "way of running it", "ns/stage", "x floor", "turns/s");
  auto row = [&](const char* name, double ns) {
    std::printf("%-34s %10.2f %10.1f %14.3g\n", name, ns, ns / floor_ns, 1e9 / (ns * kStages));
  };
  row("floor: 5 direct calls", floor_ns);
  row("oneTBB flow_graph, 1 thread", fg1);
  row("oneTBB flow_graph, 2 threads", fg2);
  row("tbb::parallel_pipeline, 1 thread", pp1);
  row("tbb::parallel_pipeline, 2 threads", pp2);
  row("cascade, tracing off, 1 thread", e1);
  row("cascade, tracing off, 2 threads", e2);
  row("cascade, clock reads only, 1 thread", c1);
  row("cascade, tracing in memory, 1 thread", m1);
  row("cascade, tracing on, 1 thread", t1);
  row("cascade, tracing on, 2 threads", t2);
  std::printf("trace written: %.1f MB (%.0f bytes/turn)\n", static_cast<double>(trace_bytes) / 1e6,
              static_cast<double>(trace_bytes) / static_cast<double>(turns * repeat));
  // A stage record's cost: what tracing adds per stage (one record and one
  // clock read per stage; the turn record is shared among the 5 stages).
  std::printf("per stage record: %.2f ns in memory = %.1fx floor (of which clock reads %.2f ns), %.2f ns persisted\n",
              m1 - e1, (m1 - e1) / floor_ns, c1 - e1, t1 - e1);
  std::printf("scheduler_x_floor=%.2f trace_x_floor=%.2f record_x_floor=%.2f two_thread_speedup=%.2f "
              "turns_per_s_2t=%.3g flow_graph_x_floor=%.1f parallel_pipeline_x_floor=%.1f floor_ns=%.2f\n",
              e1 / floor_ns, t1 / floor_ns, (m1 - e1) / floor_ns, e1 / e2, turns_per_s, fg1 / floor_ns,
              pp1 / floor_ns, floor_ns);
  fs::remove_all(trace_path);
  return 0;
}
