// cascade-assistant-data — build tool: SLURP devel.jsonl -> the assistant's
// training files, catalogues and evaluation dialogues. Run by the
// `assistant_data` target; see README.md beside this file.
#include "data/assistant_data.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"Build the assistant's data files from SLURP devel.jsonl"};
  std::string input, output;
  cascade::language::data::Options opt;
  app.add_option("--input", input, "SLURP devel.jsonl")->required();
  app.add_option("--output-dir", output, "directory to write into")->required();
  app.add_option("--small-dialogues", opt.small_dialogues, "dialogues in eval_dialogues_small.jsonl");
  app.add_option("--false-wake-every", opt.false_wake_every, "a non-addressed turn after every N addressed ones");
  CLI11_PARSE(app, argc, argv);
  try {
    auto records = cascade::language::data::read_records(input);
    auto out = cascade::language::data::build(records, opt);
    cascade::language::data::write(out, output);
    std::printf("assistant data: %zu records, %zu TRAIN (%zu training lines, %zu unique sentences, %zu dropped as "
                "EVAL duplicates), %zu EVAL in %zu dialogues (%zu turns incl. non-addressed), catalogue of %zu "
                "entity types -> %s\n",
                records.size(), out.train_records, out.train_fasttext.size(), out.train_sentences.size(),
                out.dropped_duplicates, out.eval_records, out.dialogues, out.eval_turns.size(),
                out.catalog.types().size(), output.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cascade-assistant-data: %s\n", e.what());
    return 1;
  }
  return 0;
}
