// cascade-trace-bench — what recording one per-stage trace record costs.
//
//   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
//   ninja -C build-rel cascade-trace-bench && build-rel/bin/cascade-trace-bench [records]
//
// Measures, median of 5 runs each (one process, runs interleaved in order):
//   memory:    Writer::write() into per-worker buffers only (the background
//              thread writes to /dev/null), i.e. the encode + hand-off cost;
//   persisted: Writer::write() + flush() + close() into a file in /tmp
//              (page cache), i.e. what a run pays end to end;
// for a stage record with one short text output and one feature, 1 worker
// thread, in two shapes: "chain" = 5 stage records per turn (the turn key is
// stored once per turn per chunk, the common case of a fused stage chain),
// "distinct" = every record of a different turn (worst case), "audio" =
// distinct records that each carry their own 1 KiB inline PCM16 input
// (32 ms at 16 kHz: bulk bytes, where MB/s is the number that matters). Records are
// declared (Writer::declare, payloads_stable) as the engine writes them;
// "named" = the chain shape undeclared (names in every event: the writer
// declares each stage once per chunk by its names), for comparison;
// "frame" = the chain as the engine writes a plain turn: one
// turn frame per 5 stages, the turn record included, each stage's input
// the previous one's output and a confidence instead of the feature.
// Reports ns/record, bytes/record and MB/s of trace bytes. A benchmark,
// never a test.
#include <cascade/trace/writer.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

struct Run {
  double ns_per_record;
  double mb_per_s;
  uint64_t bytes;
};

Run run_once(const std::filesystem::path& path, uint64_t n, uint64_t stages_per_turn, bool audio = false,
             bool named = false, bool frame = false) {
  using namespace cascade::trace;
  WriterOptions opt;
  opt.path = path;
  opt.max_workers = 4;
  const char text[] = "turn on the lights";
  PayloadView out{"text", 1, 0, text, sizeof text - 1};
  FeatureView feat{"rtf", 0.25};
  static std::vector<char> pcm(1024, 3);
  PayloadView in{"audio", 2, 16000, pcm.data(), pcm.size()};
  PayloadView no_in{"audio", 0, 0, nullptr, 0};  // declared records list every port: absent = type 0
  StageEvent ev;
  ev.turn = TurnKey{"slurp-devel-000123", "user-0042", 0, 0};
  const char* stages[5] = {"vad", "asr", "nlu", "dialog", "tts"};
  ev.plugin = "cascade-basic";
  ev.plugin_version = "0.1.0";
  ev.outputs = {&out, 1};
  ev.features = {&feat, 1};
  if (audio || !named) ev.inputs = {audio ? &in : &no_in, 1};
  ev.payloads_stable = true;
  const auto t0 = clk::now();
  Writer w(opt);
  uint32_t handles[5];
  const std::string_view in_ports[1] = {"audio"}, out_ports[1] = {"text"};
  // Frames: payload table = the 5 outputs, then the turn input.
  uint32_t frame_ports[5][2];
  for (uint32_t s = 0; s < 5; ++s) {
    frame_ports[s][0] = s == 0 ? 5 : s - 1;
    frame_ports[s][1] = s;
    handles[s] = w.declare({stages[s], ev.plugin, ev.plugin_version, in_ports, out_ports, frame_ports[s]});
  }
  if (frame) {
    PayloadView table[6];
    for (auto& v : table) v = out;
    FrameStage fs[5];
    TurnFrame f;
    f.turn.turn = ev.turn;
    f.payloads = table;
    f.input = 5;
    f.stages = fs;
    for (uint64_t i = 0; i < n; i += 5) {
      f.turn.turn.turn_seq = i / 5;
      f.turn.turn.turn_index = static_cast<uint32_t>(f.turn.turn.turn_seq & 15);
      f.turn.start_ns = static_cast<int64_t>(i) * 1000;
      for (uint32_t s = 0; s < 5; ++s) {
        const int64_t start = static_cast<int64_t>(i + s) * 1000;
        fs[s] = {handles[s], start, start + 500, 0, true, 0.25};
      }
      f.turn.end_ns = fs[4].end_ns;
      w.write(0, f);
    }
  }
  for (uint64_t i = 0; i < (frame ? 0 : n); ++i) {
    ev.turn.turn_seq = i / stages_per_turn;
    ev.turn.turn_index = static_cast<uint32_t>(ev.turn.turn_seq & 15);
    ev.stage_id = stages[i % 5];
    if (!named) ev.decl = handles[i % 5];
    if (audio) std::memcpy(pcm.data(), &i, sizeof i);  // new audio every record: stored, never a reference
    ev.start_ns = static_cast<int64_t>(i) * 1000;
    ev.end_ns = ev.start_ns + 500;
    w.write(0, ev);
  }
  w.close();
  const auto t1 = clk::now();
  const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
  const uint64_t bytes = w.stats().bytes;
  return {ns / static_cast<double>(n), static_cast<double>(bytes) / (ns / 1e9) / 1e6, bytes};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const auto file = std::filesystem::temp_directory_path() / ("cascade-trace-bench-" + std::to_string(::getpid()) + ".cas");
  run_once("/dev/null", n / 10, 5);  // warm up allocator and page cache
  std::printf("records per run: %llu, 1 worker thread, median of 5 runs\n", static_cast<unsigned long long>(n));
  std::printf("%-9s %-10s %12s %14s %10s\n", "shape", "sink", "ns/record", "bytes/record", "MB/s");
  for (int shape_index = 0; shape_index < 5; ++shape_index) {
    const uint64_t per_turn = shape_index == 1 || shape_index == 2 ? 1 : 5;
    const bool audio = shape_index == 2;
    const bool named = shape_index == 3;
    const bool frame = shape_index == 4;
    std::vector<double> mem_ns, mem_mb, disk_ns, disk_mb;
    uint64_t bytes = 0;
    for (int i = 0; i < 5; ++i) {
      const Run m = run_once("/dev/null", n, per_turn, audio, named, frame);
      // A fresh file each run, removed right after: re-truncating one file
      // would make ext4 write the previous run back to disk during the next.
      const auto run_file = file.string() + "." + std::to_string(i);
      const Run d = run_once(run_file, n, per_turn, audio, named, frame);
      std::filesystem::remove(run_file);
      mem_ns.push_back(m.ns_per_record);
      mem_mb.push_back(m.mb_per_s);
      disk_ns.push_back(d.ns_per_record);
      disk_mb.push_back(d.mb_per_s);
      bytes = d.bytes;
    }
    const char* shape = frame ? "frame" : named ? "named" : audio ? "audio" : per_turn == 5 ? "chain" : "distinct";
    const double bpr = static_cast<double>(bytes) / static_cast<double>(n);
    std::printf("%-9s %-10s %12.1f %14.1f %10.0f\n", shape, "memory", median(mem_ns), bpr, median(mem_mb));
    std::printf("%-9s %-10s %12.1f %14.1f %10.0f\n", shape, "/tmp file", median(disk_ns), bpr, median(disk_mb));
  }
  std::printf("memory = encode + hand-off (background thread writes to /dev/null); /tmp file = page cache\n");
  std::printf("goals: <= 60 ns/record persisted, >= 1000 MB/s\n");
  return 0;
}
