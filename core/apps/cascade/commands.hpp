// The `cascade` command line: one executable, one file per command group.
// Each add_* function registers its subcommands on the app; the callback
// stores the process exit code in `exit_code`.
//
// Exit codes (README.md, "The CLI"): 0 ok, 1 runtime failure, 2 usage/config
// error, 130 interrupted.
#pragma once

#include <cascade/core/config.hpp>
#include <cascade/core/loader.hpp>
#include <cascade/core/plan.hpp>
#include <cascade/core/run.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cascade::cli {

constexpr int kOk = 0;
constexpr int kRuntimeFailure = 1;
constexpr int kUsageError = 2;

// Options every command shares.
struct Globals {
  std::vector<std::string> plugin_paths;  // --plugin-path, before $CASCADE_PLUGIN_PATH
  bool verbose = false;
  int exit_code = kOk;
};

void add_plugin_commands(CLI::App& app, Globals& g);  // plugins, inspect
void add_run_commands(CLI::App& app, Globals& g);     // run, replay
void add_isolate_commands(CLI::App& app, Globals& g); // isolate

// crash_report.cpp: a plugin that takes the process down is named.
// install_crash_reports(): fatal-signal handlers (SIGSEGV, SIGABRT, SIGFPE,
// SIGBUS, SIGILL) that say which stage and plugin the crashing thread ran
// (R042), then re-raise. report_exit_from_stages(): exit() called inside a
// stage is said (R043) and ends the process with its status at once.
void install_crash_reports();
void report_exit_from_stages();

// cascade::load_pipeline() with the --plugin-path directories; prints every
// problem to stderr and returns nullopt if there is any.
std::optional<LoadedPipeline> load_pipeline_or_print(const std::string& file, const std::vector<std::string>& overrides,
                                                     const Globals& g);

}  // namespace cascade::cli
