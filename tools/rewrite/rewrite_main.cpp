// cascade-rewrite: precomputed rewrites from traces (`cascade rewrite ...`
// execs this binary).
//
//   cascade rewrite build TRACE... -o rewrites.json [--delta 0.1] [--min-support 3] [--session-gap-s 300]
//   cascade rewrite index TRACE... -o index.json [--min-support 1]
//
// `build` writes the precomputed table (table/table.hpp), `index` the online
// rewriting index (online/index_file.hpp); both print a summary to stderr;
// stdout stays empty. Exit codes: 0 ok, 1 runtime failure (unreadable
// trace, unsolvable chain, cannot write), 2 usage error.
#include "chain/solve.hpp"
#include "rewrite/build.hpp"
#include "rewrite/index_build.hpp"
#include "table/table.hpp"

#include "common/exit_guard.hpp"

#include <cascade/trace/error.hpp>

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

namespace rw = cascade::rewriting;
namespace tools = cascade::tools;

using tools::kOk;
using tools::kRuntimeFailure;
using tools::kUsageError;

// Runs `make` (which builds and writes, and returns its summary line) and
// maps what it throws to an exit code (common/exit_guard.hpp).
template <class Make>
int guarded(Make make) {
  return tools::exit_guard([&] {
    std::cerr << make();
    return kOk;
  });
}

int build(const std::vector<std::filesystem::path>& traces, const std::filesystem::path& out,
          const rw::BuildOptions& options) {
  return guarded([&] {
    const rw::BuildResult r = rw::build_rewrites(traces, options);
    for (const auto& d : r.damage) std::cerr << "warning: " << d.format() << "\n";
    const std::string id = rw::write_table(r.table, out);
    return rw::format_summary(r) + "  table: " + out.string() + " (" + id + ")\n";
  });
}

int index(const std::vector<std::filesystem::path>& traces, const std::filesystem::path& out,
          const rw::IndexBuildOptions& options) {
  return guarded([&] {
    const rw::IndexBuildResult r = rw::build_online_index(traces, options);
    for (const auto& d : r.damage) std::cerr << "warning: " << d.format() << "\n";
    const std::string id = rw::write_online_index(r.index, out);
    return rw::format_index_summary(r) + "  index: " + out.string() + " (" + id + ")\n";
  });
}

int run(int argc, char** argv) {
  CLI::App app{"cascade rewrite: precomputed rewrites (absorbing Markov chain) and the online index, from traces",
               "cascade rewrite"};
  app.require_subcommand(1);
  int exit_code = kOk;

  std::vector<std::filesystem::path> traces;
  std::filesystem::path out;
  rw::BuildOptions options;
  auto* b = app.add_subcommand("build", "Build a rewrite table from traces");
  b->add_option("traces", traces, "Trace files (or rotated trace directories)")->required()->check(CLI::ExistingPath);
  b->add_option("-o,--output", out, "The table to write (JSON)")->required();
  b->add_option("--delta", options.thresholds.min_gain, "Keep a rewrite only if B_jS - B_iS >= delta")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  b->add_option("--min-support", options.thresholds.min_support,
                "Keep a rewrite only if both requests were seen at least this often")
      ->capture_default_str();
  b->add_option("--session-gap-s", options.session_gap_s,
                "A dialogue's requests more than this many seconds apart start a new session")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  b->callback([&] { exit_code = build(traces, out, options); });

  std::vector<std::filesystem::path> index_traces;
  std::filesystem::path index_out;
  rw::IndexBuildOptions index_options;
  auto* ix = app.add_subcommand("index", "Build the online rewriting index (successful requests, global and per user)");
  ix->add_option("traces", index_traces, "Trace files (or rotated trace directories)")->required()->check(CLI::ExistingPath);
  ix->add_option("-o,--output", index_out, "The index to write (JSON)")->required();
  ix->add_option("--min-support", index_options.min_support,
                 "A request enters the global index with at least this many successes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  ix->callback([&] { exit_code = index(index_traces, index_out, index_options); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kUsageError;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // setting up the command line itself failed
    std::cerr << "error: " << e.what() << "\n";
    return kRuntimeFailure;
  }
}
