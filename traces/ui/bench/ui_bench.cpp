// cascade-ui-bench — how long `cascade ui` takes to show the first page of
// a 1M-turn trace, how long the full index takes, and the memory it uses.
//
//   build/bin/cascade-ui-bench [TURNS=1000000] [TRACE=/tmp/cascade-ui-bench.cas]
//
// Writes TRACE with the real Writer if it does not exist (the synthetic
// assistant turns of tests/synthetic.hpp: 4 stages, text and JSON payloads,
// audio hashed, the writer's default chunks), then in a fresh child process
// opens it as cascade-ui does (Catalog, background scan) and reports:
//   first page: time until /api/turns?offset=0&limit=100 returns 100 rows;
//   indexed:    time until the scan is done;
//   filter:     a failure-point filter over every turn, then a latency sort;
//   turn:       reading one turn back in full (seek to its chunk);
//   memory:     peak RSS of the child (VmHWM), and the anonymous part of it
//               (the index; the rest is the trace's file pages mapped while
//               it is scanned), against the trace's size.
// A benchmark, never a test. Documented in docs/ui.md.
#include "../tests/synthetic.hpp"
#include "query.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

using clk = std::chrono::steady_clock;
double ms_since(clk::time_point t) { return std::chrono::duration<double, std::milli>(clk::now() - t).count(); }

// A field of /proc/self/status in kB ("VmHWM", "RssAnon", ...).
long status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

cascade::ui::Params params(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
  };
}

int open_and_measure(const std::filesystem::path& path) {
  using namespace cascade::ui;
  const double size_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  const long base_kb = status_kb("VmRSS");
  const auto t0 = clk::now();
  Catalog catalog({path}, std::nullopt, "");
  catalog.start();
  double first_page = -1;
  long anon_peak = 0;
  for (;;) {
    const auto page = catalog.list(params({{"offset", "0"}, {"limit", "100"}}));
    if (page["rows"].size() == 100 && first_page < 0) first_page = ms_since(t0);
    anon_peak = std::max(anon_peak, status_kb("RssAnon"));
    if (first_page >= 0 && catalog.trace(0).done()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(first_page < 0 ? 2 : 50));
  }
  const double indexed = ms_since(t0);
  anon_peak = std::max(anon_peak, status_kb("RssAnon"));
  const auto t1 = clk::now();
  const auto failed = catalog.list(params({{"label", "nlu"}, {"limit", "100"}}));
  const double filter = ms_since(t1);
  const auto t2 = clk::now();
  (void)catalog.list(params({{"sort", "lat_desc"}, {"limit", "100"}}));
  const double sort = ms_since(t2);
  const auto t3 = clk::now();
  const auto turn = catalog.turn(params({{"seq", "777777"}}));
  const double one_turn = ms_since(t3);
  const long hwm_kb = status_kb("VmHWM");
  std::printf("trace            %.1f MB, %llu turns\n", size_mb,
              static_cast<unsigned long long>(catalog.trace(0).progress().rows));
  std::printf("first page       %.0f ms\n", first_page);
  std::printf("fully indexed    %.0f ms\n", indexed);
  std::printf("filter (nlu)     %.0f ms, %llu turns\n", filter, failed["total"].get<unsigned long long>());
  std::printf("sort by latency  %.0f ms\n", sort);
  std::printf("open one turn    %.1f ms (%zu stages)\n", one_turn, turn["stages"].size());
  std::printf("peak RSS         %.1f MB = %.2fx the trace (anonymous, the index: %.1f MB = %.2fx; start %.1f MB)\n",
              static_cast<double>(hwm_kb) / 1e3, static_cast<double>(hwm_kb) / 1e3 / size_mb,
              static_cast<double>(anon_peak) / 1e3, static_cast<double>(anon_peak) / 1e3 / size_mb,
              static_cast<double>(base_kb) / 1e3);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t turns = argc > 1 ? std::stoull(argv[1]) : 1'000'000;
  const std::filesystem::path path = argc > 2 ? argv[2] : "/tmp/cascade-ui-bench.cas";
  try {
    if (!std::filesystem::exists(path)) {
      const auto t = clk::now();
      cascade::ui::testing::write_synthetic(
          path, {.turns = turns, .audio = cascade::trace::AudioMode::Hash, .chunk_bytes = 256 * 1024});
      std::printf("wrote %s: %llu turns in %.1f s\n", path.c_str(), static_cast<unsigned long long>(turns),
                  ms_since(t) / 1e3);
    }
    std::fflush(stdout);
    // A fresh process, so its peak RSS is the open's alone.
    const pid_t child = ::fork();
    if (child == 0) {
      const int rc = open_and_measure(path);
      std::fflush(stdout);
      ::_exit(rc);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cascade-ui-bench: %s\n", e.what());
    return 1;
  }
}
