// cascade-lm-build — build-time tool: training sentences -> an in-domain
// ARPA language model and a trimmed pronunciation dictionary for the `asr`
// plugin.
//
//   cascade-lm-build --sentences train_sentences.txt --lm domain.lm --dict domain.dict
//                    [--general en-us.lm.bin --general-words N --general-weight B]
//
// With --general-words N > 0, the N most probable words of the general LM
// that cmudict knows are mixed into the unigram level with weight B (see
// lm_builder.hpp), so the recogniser can produce ordinary words the
// training sentences lack.
//
// Every word of the model gets all its cmudict pronunciations; a word
// cmudict lacks is spelled letter by letter ("tv" -> T IY V IY) and
// reported; a word that cannot even be spelled is reported and the
// sentences containing it are left out of the LM (so the LM never names a
// word the dictionary lacks).
#include "general_lm.hpp"
#include "lm_builder.hpp"

#include "cmudict.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

int main(int argc, char** argv) {
  CLI::App app{"Build an in-domain ARPA LM and trimmed dictionary from sentences (one per line)"};
  std::string sentences_path, lm_path, dict_path;
  std::string cmudict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  std::string general = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
  int order = 3;
  size_t general_words = 0;
  double general_weight = 0.0;
  app.add_option("--sentences", sentences_path, "training sentences, one per line")->required();
  app.add_option("--lm", lm_path, "ARPA file to write")->required();
  app.add_option("--dict", dict_path, "trimmed dictionary to write")->required();
  app.add_option("--cmudict", cmudict, "full pronouncing dictionary")->capture_default_str();
  app.add_option("--order", order, "n-gram order (1..5)")->capture_default_str();
  app.add_option("--general", general, "general English LM whose top words widen the vocabulary")->capture_default_str();
  app.add_option("--general-words", general_words, "how many general words to add (0 = closed domain vocabulary)")
      ->capture_default_str();
  app.add_option("--general-weight", general_weight, "their share of the unigram probability, in [0, 1)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    using namespace cascade::speech;
    std::ifstream in(sentences_path);
    if (!in) {
      std::cerr << "error[A010]: sentences file not found: " << sentences_path << "\n";
      return 1;
    }
    const CmuDict dict = CmuDict::load(cmudict);
    std::vector<std::vector<std::string>> sentences;
    std::string line;
    while (std::getline(in, line)) {
      auto words = tokenize(line);
      if (!words.empty()) sentences.push_back(std::move(words));
    }
    std::vector<std::string> all;
    for (const auto& s : sentences) all.insert(all.end(), s.begin(), s.end());
    std::vector<std::string> missing, spelled;
    const std::string dict_text = dict.trimmed(all, &missing, &spelled);
    const std::set<std::string> bad(missing.begin(), missing.end());
    size_t dropped = 0;
    if (!bad.empty()) {
      std::erase_if(sentences, [&](const std::vector<std::string>& s) {
        for (const auto& w : s) {
          if (bad.count(w) != 0) {
            ++dropped;
            return true;
          }
        }
        return false;
      });
    }
    Background bg;
    if (general_words > 0) {
      bg.weight = general_weight;
      bg.unigrams = top_unigrams(general, general_words, [&](const std::string& w) { return dict.find(w) != nullptr; });
    }
    const ArpaModel lm = build_arpa(sentences, order, bg);
    // The dictionary covers the model's vocabulary; spelled/missing lists
    // above concern the sentences' own words.
    const std::string model_dict = general_words > 0 ? dict.trimmed(lm.vocab, nullptr) : dict_text;
    for (const auto* p : {&lm_path, &dict_path}) {
      const auto parent = std::filesystem::path(*p).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
    }
    std::ofstream(lm_path, std::ios::trunc) << lm.text;
    std::ofstream(dict_path, std::ios::trunc) << model_dict;
    std::cout << "cascade-lm-build: " << sentences.size() << " sentences, " << lm.domain_words << " domain words";
    if (general_words > 0)
      std::cout << " + " << (lm.vocab.size() - lm.domain_words) << " general (weight " << general_weight << ")";
    std::cout << ", ";
    for (size_t n = 0; n < lm.counts.size(); ++n) std::cout << (n ? "/" : "") << lm.counts[n];
    std::cout << " n-grams -> " << lm_path << ", " << dict_path << "\n";
    auto list = [](const char* what, const std::vector<std::string>& ws) {
      if (ws.empty()) return;
      std::cout << "  " << ws.size() << " words " << what << ":";
      for (const auto& w : ws) std::cout << " " << w;
      std::cout << "\n";
    };
    list("not in cmudict, spelled by letters", spelled);
    list("not in cmudict and not spellable, skipped", missing);
    if (dropped > 0) std::cout << "  " << dropped << " sentences left out for unspellable words\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
