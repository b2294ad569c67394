// cascade — the command line of the Cascade pipeline framework.
#include "commands.hpp"

#include <cascade/abi/cascade_abi.h>
#include <cascade/core/config.hpp>
#include <cascade/core/run.hpp>
#include <cascade/trace/tools.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <unistd.h>

#ifndef CASCADE_VERSION
#define CASCADE_VERSION "0.0.0"
#endif

namespace {

// Stdout carries only what a command promises (result lines, --json
// objects, exports, DOT), so that `cascade ... | jq` works. Log lines (the
// engine's, and the plugins' through the host's log callback) go to stderr
// with the progress bar and the summaries. spdlog's own default logger
// writes to stdout; it is replaced before any command runs.
void log_to_stderr() {
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
}

// `cascade NAME args...` runs `cascade-NAME args...` from the directory of
// this executable when NAME is no built-in command (as git does): tools
// such as cascade-eval stay separate programs with their own dependencies.
void dispatch_external(CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return;
  for (const auto* sub : app.get_subcommands({}))
    if (sub->get_name() == argv[1]) return;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return;
  const auto tool = exe.parent_path() / (std::string("cascade-") + argv[1]);
  if (!std::filesystem::exists(tool, ec)) return;
  std::vector<char*> args;
  std::string name = tool.string();
  args.push_back(name.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(name.c_str(), args.data());
  std::cerr << "error: cannot run " << name << "\n";
  std::exit(1);
}

int cli_main(int argc, char** argv) {
  log_to_stderr();
  cascade::cli::install_crash_reports();
  CLI::App app{"cascade — plugin-based pipeline framework for voice assistants"};
  app.set_version_flag("--version", std::string("cascade " CASCADE_VERSION " (plugin ABI ") +
                                        std::to_string(CASCADE_ABI_MAJOR) + "." + std::to_string(CASCADE_ABI_MINOR) + ")");
  app.require_subcommand(1);

  cascade::cli::Globals g;
  app.add_option("--plugin-path", g.plugin_paths,
                 "Directory searched for plugins before $CASCADE_PLUGIN_PATH and the built-in directory (repeatable)")
      ->type_name("DIR");
  app.add_flag("-v,--verbose", g.verbose, "Say more (searched paths, refusals)");

  cascade::cli::add_plugin_commands(app, g);
  cascade::cli::add_run_commands(app, g);
  cascade::cli::add_isolate_commands(app, g);
  cascade::config::register_commands(app, g.exit_code, [&g](const cascade::config::PipelineConfig& cfg) {
    std::vector<std::filesystem::path> extra(g.plugin_paths.begin(), g.plugin_paths.end());
    return std::unique_ptr<cascade::PluginCatalog>(cascade::load_catalog(cfg, extra, nullptr));
  });
  cascade::trace::register_commands(app, g.exit_code);

  dispatch_external(app, argc, argv);
  app.footer("Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.\n"
             "Other commands: `cascade NAME ...` runs cascade-NAME from this directory (e.g. cascade eval).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : cascade::cli::kUsageError;
  }
  return g.exit_code;
}

}  // namespace

// Commands report their own errors with codes; this is the net under them:
// a failure none of them caught still ends with a message and exit 1, not
// std::terminate.
int main(int argc, char** argv) {
  try {
    return cli_main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
