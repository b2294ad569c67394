// `cascade plugins` and `cascade inspect`.
#include "commands.hpp"

#include <cascade/abi/cascade_analyzer.h>

#include <cascade/core/loader.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace cascade::cli {
namespace {

std::vector<std::filesystem::path> dirs_of(const Globals& g) {
  std::vector<std::filesystem::path> c(g.plugin_paths.begin(), g.plugin_paths.end());
  return PluginRegistry::search_path(c);
}

std::string abi(const PluginInfo& p) { return std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor); }

nlohmann::json to_json(const PluginInfo& p) {
  nlohmann::json j{{"name", p.name},
                   {"version", p.version},
                   {"kind", kind_name(p.kind)},
                   {"abi", abi(p)},
                   {"license", p.license},
                   {"description", p.description},
                   {"max_concurrency", p.max_concurrency},
                   {"deterministic", p.deterministic()},
                   {"batch", p.batch},
                   {"path", p.path.string()}};
  auto ports = [](const std::vector<PortInfo>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& x : v)
      a.push_back({{"name", x.name}, {"type", payload_type_name(x.type)}, {"optional", x.optional}, {"doc", x.doc}});
    return a;
  };
  if (p.kind == CASCADE_KIND_ANALYZER)
    j["analyzer"] = {{"labels", p.labels},
                     {"dialogue", (p.analyzer_flags & CASCADE_ANALYZER_DIALOGUE) != 0},
                     {"replays", (p.analyzer_flags & CASCADE_ANALYZER_REPLAYS) != 0}};
  j["inputs"] = ports(p.inputs);
  j["outputs"] = ports(p.outputs);
  j["params"] = nlohmann::json::array();
  for (const auto& x : p.params)
    j["params"].push_back({{"name", x.name}, {"type", param_type_name(x.type)}, {"default", x.default_value}, {"doc", x.doc}});
  return j;
}

void print_human(const PluginInfo& p) {
  std::cout << p.name << " " << p.version << " (" << kind_name(p.kind) << ", ABI " << abi(p) << ", " << p.license << ")\n";
  if (!p.description.empty()) std::cout << "  " << p.description << "\n";
  std::cout << "  path: " << p.path.string() << "\n";
  std::cout << "  concurrency: " << (p.max_concurrency == 0 ? std::string("any") : std::to_string(p.max_concurrency))
            << (p.deterministic() ? ", deterministic" : "") << (p.batch ? ", batch calls" : "") << "\n";
  auto ports = [](const char* title, const std::vector<PortInfo>& v) {
    std::cout << "  " << title << ":" << (v.empty() ? " none" : "") << "\n";
    for (const auto& x : v)
      std::cout << "    " << x.name << " : " << payload_type_name(x.type) << (x.optional ? " (optional)" : "")
                << (x.doc.empty() ? "" : "  — " + x.doc) << "\n";
  };
  if (p.kind == CASCADE_KIND_ANALYZER) {
    std::cout << "  labels:";
    for (const auto& l : p.labels) std::cout << " " << l;
    std::cout << (p.labels.empty() ? " any" : "") << "\n";
    std::cout << "  reads: each turn" << ((p.analyzer_flags & CASCADE_ANALYZER_DIALOGUE) != 0 ? " with its dialogue" : "")
              << ((p.analyzer_flags & CASCADE_ANALYZER_REPLAYS) != 0 ? "; replays turns (needs a pipeline)" : "") << "\n";
  } else {
    ports("inputs", p.inputs);
    ports("outputs", p.outputs);
  }
  std::cout << "  parameters:" << (p.params.empty() ? " none" : "") << "\n";
  for (const auto& x : p.params)
    std::cout << "    " << x.name << " : " << param_type_name(x.type) << " = " << x.default_value
              << (x.doc.empty() ? "" : "  — " + x.doc) << "\n";
}

}  // namespace

void add_plugin_commands(CLI::App& app, Globals& g) {
  auto* list = app.add_subcommand("plugins", "List the plugins found on the search path");
  auto list_json = std::make_shared<bool>(false);
  list->add_flag("--json", *list_json, "Print JSON instead of a table");
  list->callback([&g, list_json] {
    PluginRegistry reg;
    auto refused = reg.scan(dirs_of(g));
    auto all = reg.all();
    if (*list_json) {
      nlohmann::json j{{"plugins", nlohmann::json::array()}, {"refused", nlohmann::json::array()}, {"searched", nlohmann::json::array()}};
      for (const auto* p : all) j["plugins"].push_back(to_json(p->info));
      for (const auto& d : refused) j["refused"].push_back({{"code", d.code}, {"file", d.file}, {"message", d.message}});
      for (const auto& s : reg.searched()) j["searched"].push_back(s.string());
      std::cout << j.dump(2) << "\n";
    } else {
      std::printf("%-16s %-10s %-9s %-5s %s\n", "NAME", "VERSION", "KIND", "ABI", "PATH");
      for (const auto* p : all)
        std::printf("%-16s %-10s %-9s %-5s %s\n", p->info.name.c_str(), p->info.version.c_str(),
                    std::string(kind_name(p->info.kind)).c_str(), abi(p->info).c_str(), p->info.path.c_str());
      for (const auto& d : refused) std::cerr << "refused: " << d.format() << "\n";
      if (g.verbose || all.empty()) {
        std::cerr << "searched:";
        for (const auto& s : reg.searched()) std::cerr << " " << s.string();
        std::cerr << "\n";
      }
    }
    g.exit_code = kOk;
  });

  auto* inspect = app.add_subcommand("inspect", "Show one plugin's ports, parameters and facts");
  auto target = std::make_shared<std::string>();
  inspect->add_option("plugin", *target, "A plugin name (searched on the path) or a path to a .so file")->required();
  auto inspect_json = std::make_shared<bool>(false);
  inspect->add_flag("--json", *inspect_json, "Print JSON");
  inspect->callback([&g, target, inspect_json] {
    PluginRegistry reg;
    const LoadedPlugin* p = nullptr;
    const bool is_path = target->find('/') != std::string::npos || target->ends_with(".so");
    try {
      if (is_path) {
        p = &reg.load(*target);
      } else {
        auto refused = reg.scan(dirs_of(g));
        p = reg.find(*target);
        if (p == nullptr) {
          std::cerr << "error[L012]: plugin '" << *target << "' not found. Searched:";
          for (const auto& s : reg.searched()) std::cerr << " " << s.string();
          std::cerr << "\n";
          for (const auto& d : refused) std::cerr << "  refused: " << d.format() << "\n";
          g.exit_code = kUsageError;
          return;
        }
      }
    } catch (const CascadeError& e) {
      std::cerr << e.what() << "\n";
      g.exit_code = kRuntimeFailure;
      return;
    }
    if (*inspect_json) std::cout << to_json(p->info).dump(2) << "\n";
    else print_human(p->info);
    g.exit_code = kOk;
  });
}

}  // namespace cascade::cli
