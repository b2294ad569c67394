// cascade-isolation-bench — what process isolation (isolation = "process")
// adds to a stage call, measured against the same stage in process, in ONE
// run (docs/performance.md, "Process isolation").
//
// One `normalize` stage (text in, a new text out: bytes travel both ways)
// runs the same turns four ways, 1 engine thread:
//   in process, one turn at a time     the floor
//   process, one turn at a time        one Call/Result round trip per turn
//   in process, micro-batched          process_batch of --micro-batch turns
//   process, micro-batched             one round trip per batch
// Every way runs once per round, all ways in each of --repeat rounds after
// an unrecorded warm-up, interleaved; each row reports its median round.
// The added cost per call is a way's median minus its in-process twin's;
// the ratio is their quotient. The last line is key=value pairs for
// scripts.
#include <cascade/core/engine.hpp>
#include <cascade/core/loader.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace cascade;

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Way {
  const char* name;
  Isolation isolation;
  uint32_t micro_batch;
  std::vector<double> us_per_call;  // per round
  [[nodiscard]] double median() const {
    std::vector<double> v = us_per_call;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cascade-isolation-bench: the cost of isolation = \"process\" per stage call"};
  uint32_t turns = 20000, repeat = 5, micro_batch = 64, payload = 64, in_flight = 256;
  std::string plugin_dir = PluginRegistry::builtin_dir().string();
  app.add_option("--turns", turns, "turns per way and round")->check(CLI::PositiveNumber);
  app.add_option("--repeat", repeat, "recorded rounds")->check(CLI::PositiveNumber);
  app.add_option("--micro-batch", micro_batch, "turns per batch call in the micro-batched ways")->check(CLI::Range(2, 4096));
  app.add_option("--payload-bytes", payload, "bytes of text per turn");
  app.add_option("--plugin-dir", plugin_dir, "where cascade-normalize.so is");
  CLI11_PARSE(app, argc, argv);

  try {
    PluginRegistry reg;
    const LoadedPlugin& normalize = reg.load(fs::path(plugin_dir) / "cascade-normalize.so");
    PipelinePlan plan;
    plan.name = "isolation-bench";
    StagePlan sp;
    sp.id = "normalize";
    sp.plugin = &normalize;
    sp.inputs.push_back(Binding{Binding::Kind::TurnInput, 0, 0});
    sp.process.workers = 1;
    plan.stages.push_back(sp);
    plan.result = {Binding::Kind::StageOutput, 0, 0};

    std::vector<TurnInput> batch(in_flight);
    for (uint32_t i = 0; i < in_flight; ++i) {
      batch[i].dialogue_id = "bench";
      batch[i].turn_seq = i;
      batch[i].payload_type = CASCADE_PAYLOAD_TEXT;
      batch[i].payload = std::string(payload, 'A');
    }
    std::vector<TurnOutcome> out(in_flight);

    std::vector<Way> ways = {{"in process, one turn at a time", Isolation::InProcess, 1, {}},
                             {"process, one turn at a time", Isolation::Process, 1, {}},
                             {"in process, micro-batched", Isolation::InProcess, micro_batch, {}},
                             {"process, micro-batched", Isolation::Process, micro_batch, {}}};
    std::vector<std::unique_ptr<Engine>> engines;
    for (const Way& w : ways) {
      PipelinePlan p = plan;
      p.stages[0].isolation = w.isolation;
      engines.push_back(std::make_unique<Engine>(p, EngineOptions{.threads = 1, .micro_batch = w.micro_batch}));
    }
    for (uint32_t round = 0; round <= repeat; ++round) {
      for (size_t k = 0; k < ways.size(); ++k) {
        const double t0 = now_s();
        for (uint32_t done = 0; done < turns; done += in_flight) {
          const uint32_t n = std::min(in_flight, turns - done);
          engines[k]->run_batch({batch.data(), n}, {out.data(), n});
        }
        const double us = (now_s() - t0) * 1e6 / turns;
        if (out[0].result != std::string(payload, 'a')) {
          std::fprintf(stderr, "cascade-isolation-bench: %s gave a wrong result\n", ways[k].name);
          return 1;
        }
        if (round > 0) ways[k].us_per_call.push_back(us);  // round 0 warms up
      }
    }
    std::printf("%-34s %14s %16s %8s\n", "way (1 thread, normalize)", "us per call", "added per call", "ratio");
    for (size_t k = 0; k < ways.size(); ++k) {
      const double m = ways[k].median();
      if (ways[k].isolation == Isolation::InProcess) {
        std::printf("%-34s %14.3f %16s %8s\n", ways[k].name, m, "", "");
      } else {
        const double base = ways[k - 1].median();
        std::printf("%-34s %14.3f %16.3f %7.1fx\n", ways[k].name, m, m - base, base > 0 ? m / base : 0);
      }
    }
    std::printf("added_us_per_call=%.3f added_us_per_call_batched=%.3f ratio=%.2f ratio_batched=%.2f "
                "turns=%u repeat=%u micro_batch=%u payload_bytes=%u\n",
                ways[1].median() - ways[0].median(), ways[3].median() - ways[2].median(),
                ways[0].median() > 0 ? ways[1].median() / ways[0].median() : 0,
                ways[2].median() > 0 ? ways[3].median() / ways[2].median() : 0, turns, repeat, micro_batch, payload);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cascade-isolation-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
