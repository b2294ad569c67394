// The `rewrite` subcommand of cascade-eval (`cascade eval rewrite`),
// registered by eval_main.cpp with one call so the tool's main stays small.
#include "eval/rewrite_cli.hpp"

#include "eval/rewrite_eval.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/error.hpp>

#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#ifndef CASCADE_EVAL_RECORDED_ASR_PIPELINE
#error "the CASCADE_EVAL_* rewrite defaults come from rewrite_eval.cmake"
#endif

namespace cascade::language::eval {

namespace fs = std::filesystem;

void add_rewrite_command(CLI::App& app, int& exit_code) {
  auto rq = std::make_shared<RewriteEvalRequest>();
  rq->baseline_pipeline = CASCADE_EVAL_RECORDED_ASR_PIPELINE;
  rq->precomputed_pipeline = CASCADE_EVAL_REWRITE_PIPELINE;
  rq->online_pipeline = CASCADE_EVAL_ONLINE_PIPELINE;
  rq->chain_pipeline = CASCADE_EVAL_CHAIN_PIPELINE;
  rq->slurp = CASCADE_EVAL_SLURP;
  rq->catalog = CASCADE_EVAL_CATALOG_JSON;
  rq->asr_model = CASCADE_EVAL_ASR_MODEL;
  auto json_out = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto no_online = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "rewrite", "Rewriters vs the baseline on simulated sessions of held-out users and days (retries are simulated)");
  cmd->add_option("--size", rq->size, "small (tests) or default")
      ->capture_default_str()
      ->check(CLI::IsMember({"small", "default"}));
  cmd->add_option("--out", rq->out_dir, "Directory for the traces, truth files, table and index")
      ->capture_default_str();
  cmd->add_option("--seed", rq->seed, "Seed of the users, sessions and bootstrap")->capture_default_str();
  cmd->add_option("--k", rq->k, "Attempts per session at most")->capture_default_str()->check(CLI::Range(1, 20));
  cmd->add_option("--resamples", rq->resamples, "Bootstrap resamples")->capture_default_str();
  cmd->add_option("--threads", rq->threads, "Pipeline worker threads (default: the config's)");
  cmd->add_flag("--no-online", *no_online, "Leave out the online rewriter's configurations");
  cmd->add_flag("--json", *json_out, "One JSON object instead of the table");
  cmd->add_flag("-q,--quiet", *quiet, "No progress on stderr");
  cmd->callback([rq, json_out, quiet, no_online, &exit_code] {
    try {
      // cascade-rewrite sits beside this tool (build/bin, <prefix>/bin).
      rq->rewrite_tool = fs::read_symlink("/proc/self/exe").parent_path() / "cascade-rewrite";
      if (*no_online) {
        rq->online_pipeline.clear();
        rq->chain_pipeline.clear();
      }
      rq->progress = !*quiet;
      if (*quiet) spdlog::set_level(spdlog::level::warn);  // the plugins' open() lines, once per engine
      const auto report = run_rewrite_eval(*rq);
      if (*json_out)
        std::cout << to_json(report).dump(2) << "\n";
      else
        std::cout << format_text(report);
      exit_code = 0;
    } catch (const CascadeError& e) {
      std::cerr << e.what() << "\n";
      exit_code = e.code().starts_with("C") ? 2 : 1;
    } catch (const trace::TraceError& e) {
      std::cerr << e.what() << "\n";
      exit_code = 1;
    } catch (const std::invalid_argument& e) {
      std::cerr << "error: " << e.what() << "\n";
      exit_code = 2;
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      exit_code = 1;
    }
  });
}

}  // namespace cascade::language::eval
