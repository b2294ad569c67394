// cascade-ui — `cascade ui TRACE... [--analysis FILE] [--port N] [--open]`:
// a local web app for browsing traces by failure point (docs/ui.md).
//
// Exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot serve (U005, a trace
// that cannot be read), 2 usage (bad options, unreadable analysis file).
#include "analysis.hpp"
#include "query.hpp"
#include "server.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  using namespace cascade;
  CLI::App app{"Browse traces by failure point in a web browser (served on 127.0.0.1)", "cascade ui"};
  std::vector<std::string> traces;
  std::string analysis_path, pipeline;
  ui::ServeOptions serve_options;
  bool open = false;
  app.add_option("traces", traces, "Trace files or rotated trace directories (the first is the main one)")
      ->required()
      ->check(CLI::ExistingPath);
  app.add_option("--analysis", analysis_path, "Analysis file of `cascade isolate` (JSON Lines): failure points");
  app.add_option("--port", serve_options.port, "TCP port (0: any free port)")->capture_default_str();
  app.add_option("--host", serve_options.host, "Address to listen on")->capture_default_str();
  app.add_option("--pipeline", pipeline, "Pipeline file named in the page's `cascade replay` commands (default: the analysis file's, else PIPELINE.toml)");
  app.add_flag("--open", open, "Open the page in the default browser (xdg-open)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::optional<ui::Analysis> analysis;
  if (!analysis_path.empty()) {
    try {
      analysis = ui::Analysis::load(analysis_path);
    } catch (const ui::UiError& e) {
      std::cerr << "cascade ui: " << e.what() << "\n";
      return 2;
    }
    for (const auto& d : analysis->diagnostics()) std::cerr << d.format() << "\n";
  }
  std::vector<std::filesystem::path> paths(traces.begin(), traces.end());
  try {
    ui::Catalog catalog(paths, std::move(analysis), pipeline);
    catalog.start();
    ui::serve(catalog, serve_options, [&](int port) {
      const std::string url = "http://" + serve_options.host + ":" + std::to_string(port) + "/";
      std::cout << "cascade ui: " << traces.size() << " trace(s) on " << url << " (Ctrl-C stops)" << std::endl;
      if (open) {
        const std::string cmd = "xdg-open '" + url + "' >/dev/null 2>&1 &";
        if (std::system(cmd.c_str()) != 0) std::cerr << "cascade ui: could not start a browser; open " << url << "\n";
      }
    });
  } catch (const std::exception& e) {
    std::cerr << "cascade ui: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
