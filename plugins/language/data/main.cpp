// cascade-assistant-data — build tool, two modes (README.md beside this file):
//   --input devel.jsonl --output-dir DIR
//       SLURP devel.jsonl -> the assistant's training files, catalogues and
//       evaluation dialogues (run by the `assistant_data` target);
//   --input devel.jsonl --output-dir DIR --folds K --fold k
//       the same files with TRAIN fold k held out: the training files from
//       the other folds, the dialogues from fold k (cascade eval fpi's
//       isolator training data);
//   --asr-field NAME --input FILE --catalog catalog.json --output TURNS
//       any SLURP-format JSONL whose records carry a recogniser's transcript
//       in field NAME -> turns with that recorded hypothesis and the gold
//       of the eval dialogues (pipelines/assistant-recorded-asr.toml).
#include "data/assistant_data.hpp"
#include "data/recorded_turns.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <fstream>
#include <string>

namespace data = cascade::language::data;

namespace {

int build_assistant_data(const std::string& input, const std::string& output, const data::Options& opt) {
  auto records = data::read_records(input);
  auto out = data::build(records, opt);
  data::write(out, output);
  if (opt.folds >= 2) {
    std::printf("assistant data, TRAIN fold %zu of %zu held out: %zu records, %zu TRAIN in the other folds (%zu "
                "training lines, %zu dropped as duplicates of held-out or EVAL text), %zu held out in %zu dialogues "
                "(%zu turns incl. non-addressed), catalogue of %zu entity types -> %s\n",
                opt.fold, opt.folds, records.size(), out.train_records, out.train_fasttext.size(),
                out.dropped_duplicates, out.heldout_records, out.dialogues, out.eval_turns.size(),
                out.catalog.types().size(), output.c_str());
    return 0;
  }
  std::printf("assistant data: %zu records, %zu TRAIN (%zu training lines, %zu unique sentences, %zu dropped as "
              "EVAL duplicates), %zu EVAL in %zu dialogues (%zu turns incl. non-addressed), catalogue of %zu "
              "entity types -> %s\n",
              records.size(), out.train_records, out.train_fasttext.size(), out.train_sentences.size(),
              out.dropped_duplicates, out.eval_records, out.dialogues, out.eval_turns.size(),
              out.catalog.types().size(), output.c_str());
  return 0;
}

// Exit 0 when every record became a turn; 1 when one was skipped (each is
// reported on stderr) unless `allow_skipped`; the turns are written either way.
int build_recorded(const std::string& input, const data::AsrFields& fields, const std::string& catalog_path,
                   const std::string& output, const data::Options& opt, bool allow_skipped) {
  const auto catalog = cascade::language::Catalog::load(catalog_path);
  const auto rec = data::build_recorded_turns(input, fields, catalog, opt);
  for (const auto& p : rec.problems) std::fprintf(stderr, "%s\n", p.c_str());
  std::ofstream f(output, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("error[A012]: cannot write " + output);
  for (const auto& t : rec.turns) f << t.dump() << '\n';
  if (!f.flush()) throw std::runtime_error("error[A012]: cannot write " + output);
  std::printf("recorded-ASR turns: %zu records, %zu turns (%zu with confidence, %zu with n-best), %zu skipped -> %s\n",
              rec.records, rec.turns.size(), rec.with_confidence, rec.with_nbest, rec.problems.size(), output.c_str());
  if (rec.train_side > 0)
    std::printf("note: %zu records have a slurp_id on the TRAIN side of the split (slurp_id %% 10 != 0): if they are "
                "SLURP's own, the shipped models were trained on them (cascade eval fpi runs them on models built "
                "without their fold)\n",
                rec.train_side);
  return rec.problems.empty() || allow_skipped ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Build the assistant's data files from SLURP devel.jsonl, or turns carrying a recorded ASR "
               "hypothesis from a SLURP-format JSONL (--asr-field)"};
  std::string input, output_dir, output, catalog;
  data::AsrFields fields;
  bool allow_skipped = false;
  data::Options opt;
  app.add_option("--input", input, "SLURP devel.jsonl, or with --asr-field any SLURP-format JSONL")->required();
  auto* dir = app.add_option("--output-dir", output_dir, "directory to write the assistant data into");
  app.add_option("--small-dialogues", opt.small_dialogues, "dialogues in eval_dialogues_small.jsonl");
  app.add_option("--false-wake-every", opt.false_wake_every, "a non-addressed turn after every N addressed ones");
  auto* folds = app.add_option("--folds", opt.folds,
                               "cut TRAIN into this many folds (>= 2) and hold fold --fold out: training files "
                               "from the others, dialogues from it")
                    ->check(CLI::Range(size_t{2}, size_t{100}));
  auto* fold = app.add_option("--fold", opt.fold, "the held-out fold, 0 <= fold < --folds");
  folds->needs(fold)->needs(dir);
  fold->needs(folds);
  auto* asr = app.add_option("--asr-field", fields.text,
                             "recorded-ASR mode: the record field holding the recogniser's 1-best transcript: a name, or a JSON "
                             "pointer whose one \"*\" makes a turn per array element (/recordings/*/asr_text)");
  auto* conf = app.add_option("--asr-confidence-field", fields.confidence,
                              "record field holding its confidence in [0, 1] (optional; a name or a pointer)");
  auto* nbest = app.add_option("--asr-nbest-field", fields.nbest,
                               "record field holding its n-best list [{\"text\",\"score\"}] (optional; a name or a pointer)");
  auto* cat = app.add_option("--catalog", catalog,
                             "the shipped entity catalogue the gold resolves against (build/data/assistant/catalog.json, "
                             "or <prefix>/share/cascade/models/catalog.json)");
  auto* out = app.add_option("--output", output, "turns JSONL to write");
  auto* allow = app.add_flag("--allow-skipped", allow_skipped, "exit 0 even when records were skipped (still reported)");
  for (auto* o : {conf, nbest, cat, out, allow}) o->needs(asr);
  asr->needs(cat)->needs(out)->excludes(dir);
  CLI11_PARSE(app, argc, argv);
  if (asr->count() > 0) {
    try {
      data::parse_asr_fields(fields);  // a usage error, before any record is read
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "cascade-assistant-data: %s\n", e.what());
      return 2;
    }
  }
  // Fold dialogues never share an id with the eval dialogues ("d0001").
  if (opt.folds >= 2) opt.dialogue_prefix = "f" + std::to_string(opt.fold) + "-d";
  if (asr->count() == 0 && dir->count() == 0) {
    std::fprintf(stderr, "cascade-assistant-data: give --output-dir (assistant data) or --asr-field (recorded-ASR turns)\n");
    return 2;
  }
  try {
    return asr->count() > 0 ? build_recorded(input, fields, catalog, output, opt, allow_skipped)
                            : build_assistant_data(input, output_dir, opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cascade-assistant-data: %s\n", e.what());
    return 1;
  }
}
