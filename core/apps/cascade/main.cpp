// cascade — the command line of the Cascade pipeline framework.
#include "commands.hpp"

#include <cascade/abi/cascade_abi.h>
#include <cascade/core/config.hpp>
#include <cascade/core/run.hpp>
#include <cascade/trace/tools.hpp>

#include <iostream>

#ifndef CASCADE_VERSION
#define CASCADE_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  CLI::App app{"cascade — plugin-based pipeline framework for voice assistants"};
  app.set_version_flag("--version", std::string("cascade " CASCADE_VERSION " (plugin ABI ") +
                                        std::to_string(CASCADE_ABI_MAJOR) + "." + std::to_string(CASCADE_ABI_MINOR) + ")");
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.");

  cascade::cli::Globals g;
  app.add_option("--plugin-path", g.plugin_paths,
                 "Directory searched for plugins before $CASCADE_PLUGIN_PATH and the built-in directory (repeatable)")
      ->type_name("DIR");
  app.add_flag("-v,--verbose", g.verbose, "Say more (searched paths, refusals)");

  cascade::cli::add_plugin_commands(app, g);
  cascade::cli::add_run_commands(app, g);
  cascade::config::register_commands(app, g.exit_code, [&g](const cascade::config::PipelineConfig& cfg) {
    std::vector<std::filesystem::path> extra(g.plugin_paths.begin(), g.plugin_paths.end());
    return std::unique_ptr<cascade::PluginCatalog>(cascade::load_catalog(cfg, extra, nullptr));
  });
  cascade::trace::register_commands(app, g.exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : cascade::cli::kUsageError;
  }
  return g.exit_code;
}
