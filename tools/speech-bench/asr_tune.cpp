// cascade-asr-tune — tunes the ASR's language model and decoder settings on
// a DEV set carved out of the TRAINING sentences, never on eval.
//
// The training sentences (train_sentences.txt: each request and its
// "alexa ..." variant) are grouped by request; request k (in file order) is
// DEV when k % dev_every == dev_offset. A model is built from the rest,
// exactly as cascade-lm-build builds the real one (same builder, same
// dictionary trimming), and each DEV request is synthesised the way the
// assistant pipeline hears it (speechsim, "alexa <request>", voice slt,
// seed 7, unless --voice/--seed/--snr say otherwise) and decoded. --hmm
// selects the acoustic model (for DEV numbers, one adapted with
// cascade-asr-adapt --holdout-every 10 --holdout-offset 5, so no DEV request
// is adaptation data). WER is scored after the ASR judge's canonical form
// (plugins/language/judges), as `cascade eval` scores it.
//
//   cascade-asr-tune [--train build/data/assistant/train_sentences.txt]
//       --words 0,5000,20000 --weight 0.05,0.2 [--order 2,3]
//       --ps "-lw=6.5,8,10" --ps "-wip=0.65,0.2" [--limit 100] [--threads 2]
//
// Every combination of --words x --weight x --order x each --ps grid is run;
// one line each: WER (substitutions, deletions, insertions), the DEV
// out-of-vocabulary rate and the decoder's speed (x real time).
#include "audio.hpp"
#include "cmudict.hpp"
#include "general_lm.hpp"
#include "judges/judges.hpp"
#include "lm_builder.hpp"
#include "speechsim.hpp"
#include "sphinx.hpp"

#include <CLI/CLI.hpp>
#include <pocketsphinx.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace sp = cascade::speech;

namespace {

struct Counts {
  size_t sub = 0, del = 0, ins = 0, words = 0;
  [[nodiscard]] size_t errors() const { return sub + del + ins; }
};

// Levenshtein alignment with the error kinds counted.
Counts align(const std::vector<std::string>& r, const std::vector<std::string>& h) {
  struct Cell {
    size_t cost = 0, sub = 0, del = 0, ins = 0;
  };
  std::vector<std::vector<Cell>> d(r.size() + 1, std::vector<Cell>(h.size() + 1));
  for (size_t i = 1; i <= r.size(); ++i) d[i][0] = {i, 0, i, 0};
  for (size_t j = 1; j <= h.size(); ++j) d[0][j] = {j, 0, 0, j};
  for (size_t i = 1; i <= r.size(); ++i) {
    for (size_t j = 1; j <= h.size(); ++j) {
      Cell best = d[i - 1][j - 1];
      const bool same = r[i - 1] == h[j - 1];
      best.cost += same ? 0 : 1;
      best.sub += same ? 0 : 1;
      Cell del = d[i - 1][j];
      ++del.cost;
      ++del.del;
      Cell ins = d[i][j - 1];
      ++ins.cost;
      ++ins.ins;
      if (del.cost < best.cost) best = del;
      if (ins.cost < best.cost) best = ins;
      d[i][j] = best;
    }
  }
  const Cell& c = d[r.size()][h.size()];
  return {c.sub, c.del, c.ins, r.size()};
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string x; std::getline(in, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}

std::string join(const std::vector<std::string>& ws) {
  std::string s;
  for (const auto& w : ws) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tune the ASR LM and decoder on a DEV set held out of the TRAIN sentences"};
  std::string train = CASCADE_TUNE_TRAIN, cmudict = CASCADE_TUNE_CMUDICT, hmm = CASCADE_TUNE_HMM;
  std::string general = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin", snr = "inf", show, voice = "slt";
  std::string words_list = "0", weight_list = "0.1", order_list = "3";
  std::vector<std::string> ps_grids;
  size_t dev_every = 10, dev_offset = 5, limit = 0;
  unsigned threads = 1;
  uint64_t seed = 7;
  app.add_option("--train", train, "training sentences (train_sentences.txt)")->capture_default_str();
  app.add_option("--cmudict", cmudict, "full pronouncing dictionary")->capture_default_str();
  app.add_option("--hmm", hmm, "acoustic model")->capture_default_str();
  app.add_option("--general", general, "general LM")->capture_default_str();
  app.add_option("--words", words_list, "general words to add, comma list")->capture_default_str();
  app.add_option("--weight", weight_list, "background weights, comma list")->capture_default_str();
  app.add_option("--order", order_list, "n-gram orders, comma list")->capture_default_str();
  app.add_option("--ps", ps_grids, "a decoder option and its values: \"-lw=6.5,8,10\" (repeatable)");
  app.add_option("--dev-every", dev_every, "request k is DEV when k % every == offset")->capture_default_str();
  app.add_option("--dev-offset", dev_offset, "see --dev-every")->capture_default_str();
  app.add_option("--limit", limit, "decode only the first N DEV requests (0 = all)");
  app.add_option("--threads", threads, "decoding threads")->capture_default_str();
  app.add_option("--snr", snr, "SNR of the DEV audio in dB ('inf' = clean)")->capture_default_str();
  app.add_option("--seed", seed, "speechsim noise seed")->capture_default_str();
  app.add_option("--voice", voice, "speechsim voice of the DEV audio")->capture_default_str();
  app.add_option("--show", show, "write every DEV reference/hypothesis pair of each run to this file");
  CLI11_PARSE(app, argc, argv);
  try {
    if (dev_every == 0 || dev_offset >= dev_every) throw std::invalid_argument("need dev_offset < dev_every");
    // Group the training lines by request (a leading "alexa" removed).
    std::ifstream in(train);
    if (!in) throw sp::SpeechError("A010", "sentences file not found: " + train);
    std::map<std::string, size_t> request_index;
    std::vector<std::pair<std::vector<std::string>, size_t>> lines;  // tokens, request index
    std::vector<std::string> requests;
    for (std::string l; std::getline(in, l);) {
      auto toks = sp::tokenize(l);
      if (toks.empty()) continue;
      std::vector<std::string> base(toks.begin() + (toks[0] == "alexa" && toks.size() > 1 ? 1 : 0), toks.end());
      const std::string key = join(base);
      auto [it, fresh] = request_index.emplace(key, requests.size());
      if (fresh) requests.push_back(key);
      lines.emplace_back(std::move(toks), it->second);
    }
    std::vector<std::vector<std::string>> fit;
    std::vector<std::string> dev;
    for (const auto& [toks, k] : lines)
      if (k % dev_every != dev_offset) fit.push_back(toks);
    for (size_t k = 0; k < requests.size(); ++k)
      if (k % dev_every == dev_offset) dev.push_back(requests[k]);
    if (limit > 0 && dev.size() > limit) dev.resize(limit);
    std::printf("%zu requests: %zu fit lines, %zu DEV requests\n", requests.size(), fit.size(), dev.size());

    // DEV audio, as the pipeline hears it.
    sp::SimOptions o;
    o.voice = voice;
    o.seed = seed;
    o.snr_db = sp::parse_snr(snr);
    std::vector<std::vector<int16_t>> audio;
    double audio_s = 0;
    for (const auto& s : dev) {
      audio.push_back(sp::simulate("alexa " + s, o).samples);
      audio_s += static_cast<double>(audio.back().size()) / 16000.0;
    }
    std::printf("DEV audio %.1f s\n", audio_s);

    const sp::CmuDict dict = sp::CmuDict::load(cmudict);
    const auto tmp = std::filesystem::temp_directory_path() / ("cascade-asr-tune-" + std::to_string(::getpid()));
    std::filesystem::create_directories(tmp);
    std::ofstream shown;
    if (!show.empty()) shown.open(show, std::ios::trunc);

    // The decoder option grids, as a cartesian product.
    std::vector<std::pair<std::string, std::vector<std::string>>> grids;
    for (const auto& g : ps_grids) {
      const size_t eq = g.find('=');
      if (eq == std::string::npos || g.empty() || g[0] != '-') throw std::invalid_argument("--ps wants -name=v1,v2: " + g);
      grids.emplace_back(g.substr(0, eq), split_list(g.substr(eq + 1)));
    }
    std::vector<std::vector<std::pair<std::string, std::string>>> combos{{}};
    for (const auto& [name, values] : grids) {
      std::vector<std::vector<std::pair<std::string, std::string>>> next;
      for (const auto& c : combos)
        for (const auto& v : values) {
          auto d = c;
          d.emplace_back(name, v);
          next.push_back(std::move(d));
        }
      combos = std::move(next);
    }

    std::vector<std::pair<std::string, double>> general_all;
    size_t max_words = 0;
    for (const auto& w : split_list(words_list)) max_words = std::max<size_t>(max_words, std::stoul(w));
    if (max_words > 0)
      general_all = sp::top_unigrams(general, max_words, [&](const std::string& w) { return dict.find(w) != nullptr; });

    std::printf("%6s %6s %5s %-28s | %6s %4s %4s %4s | %5s | %6s %6s\n", "words", "weight", "order", "decoder", "WER",
                "sub", "del", "ins", "OOV%", "xRT", "open s");
    for (const auto& wtext : split_list(words_list)) {
      const size_t n_words = std::stoul(wtext);
      for (const auto& btext : split_list(weight_list)) {
        const double weight = std::stod(btext);
        if (n_words == 0 && btext != split_list(weight_list).front()) continue;  // weight is moot
        for (const auto& otext : split_list(order_list)) {
          sp::Background bg;
          if (n_words > 0) {
            bg.weight = weight;
            bg.unigrams.assign(general_all.begin(), general_all.begin() + static_cast<long>(std::min(n_words, general_all.size())));
          }
          // As cascade-lm-build: unspellable words drop their sentences.
          std::vector<std::string> all;
          for (const auto& s : fit) all.insert(all.end(), s.begin(), s.end());
          std::vector<std::string> missing;
          (void)dict.trimmed(all, &missing);
          const std::set<std::string> bad(missing.begin(), missing.end());
          auto sentences = fit;
          std::erase_if(sentences, [&](const auto& s) {
            return std::any_of(s.begin(), s.end(), [&](const auto& w) { return bad.count(w) != 0; });
          });
          const sp::ArpaModel lm = sp::build_arpa(sentences, std::stoi(otext), bg);
          const std::string lm_path = (tmp / "tune.lm").string(), dict_path = (tmp / "tune.dict").string();
          std::ofstream(lm_path, std::ios::trunc) << lm.text;
          std::ofstream(dict_path, std::ios::trunc) << dict.trimmed(lm.vocab, nullptr);
          const std::set<std::string> vocab(lm.vocab.begin(), lm.vocab.end());
          size_t oov = 0, dev_words = 0;
          for (const auto& s : dev)
            for (const auto& w : sp::tokenize(s)) {
              ++dev_words;
              oov += vocab.count(w) == 0;
            }

          for (const auto& combo : combos) {
            std::vector<std::pair<std::string, std::string>> args{{"-hmm", hmm}, {"-lm", lm_path}, {"-dict", dict_path}};
            std::string label;
            for (const auto& [k, v] : combo) {
              args.emplace_back(k, v);
              label += k + "=" + v + " ";
            }
            const auto t_open = std::chrono::steady_clock::now();
            std::vector<sp::DecoderPtr> decoders;
            decoders.push_back(sp::make_decoder(args));
            const double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_open).count();
            for (unsigned t = 1; t < threads; ++t) decoders.push_back(sp::make_decoder(args));
            std::vector<std::string> hyps(dev.size());
            std::vector<double> cpu(dev.size());
            std::atomic<size_t> next{0};
            auto work = [&](ps_decoder_t* ps) {
              for (size_t i; (i = next++) < dev.size();) {
                const auto t0 = std::chrono::steady_clock::now();
                ps_start_utt(ps);
                ps_process_raw(ps, audio[i].data(), audio[i].size(), FALSE, TRUE);
                ps_end_utt(ps);
                const char* h = ps_get_hyp(ps, nullptr);
                hyps[i] = h != nullptr ? h : "";
                cpu[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
              }
            };
            std::vector<std::thread> pool;
            for (auto& d : decoders) pool.emplace_back(work, d.get());
            for (auto& t : pool) t.join();
            Counts total;
            double decode_s = 0;
            for (size_t i = 0; i < dev.size(); ++i) {
              const auto r = sp::tokenize(cascade::language::judges::canonical_text(dev[i]));
              const auto h = sp::tokenize(cascade::language::judges::canonical_text(hyps[i]));
              const Counts c = align(r, h);
              total.sub += c.sub;
              total.del += c.del;
              total.ins += c.ins;
              total.words += c.words;
              decode_s += cpu[i];
              if (shown.is_open() && c.errors() > 0)
                shown << wtext << " " << btext << " " << otext << " " << label << "\n  REF: " << dev[i] << "\n  HYP: " << hyps[i]
                      << "\n";
            }
            std::printf("%6zu %6s %5s %-28s | %5.1f%% %4zu %4zu %4zu | %4.1f%% | %6.1f %6.2f\n", n_words, btext.c_str(),
                        otext.c_str(), label.c_str(), 100.0 * static_cast<double>(total.errors()) / static_cast<double>(total.words),
                        total.sub, total.del, total.ins, 100.0 * static_cast<double>(oov) / static_cast<double>(dev_words),
                        audio_s / decode_s, open_s);
            std::fflush(stdout);
          }
        }
      }
    }
    std::filesystem::remove_all(tmp);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
