// eval/rewrite_cli.hpp — registers `cascade eval rewrite` on cascade-eval's
// CLI (rewrite_eval.hpp does the work). Called once from main(), before
// parsing; the callback sets `exit_code`, which must outlive the parse.
#pragma once

#include <CLI/CLI.hpp>

namespace cascade::language::eval {

void add_rewrite_command(CLI::App& app, int& exit_code);

}  // namespace cascade::language::eval
