// cascade-asr-adapt — build-time tool: MAP-adapts pocketsphinx's acoustic
// model to the assistant's synthetic speech, using the TRAINING sentences.
//
//   cascade-asr-adapt --sentences train_sentences.txt --dict domain.dict --out DIR
//                     [--hmm /usr/share/pocketsphinx/model/en-us/en-us]
//                     [--voice slt[,en-us+f2,...] ...] [--snr inf[,20,...] ...] [--seed 11]
//                     [--every 1] [--iterations 2] [--holdout-every 0 --holdout-offset 0]
//                     [--tau 10 --fixed-tau] [--update means,variances,mixw,tmat] [--jobs N]
//                     [--bw /usr/lib/sphinxtrain/bw --map-adapt /usr/lib/sphinxtrain/map_adapt]
//
// WHY: the stock en-us model was trained on human speech; on speechsim's
// voices most of the errors left once the vocabulary is wide enough are
// acoustic (in-vocabulary words misheard). Adaptation on enrolment speech
// is the standard cure. Here the enrolment speech is the training requests
// ("alexa <request>" lines of train_sentences.txt) synthesised by speechsim:
// no eval text is involved. Each --voice list (with the --snr list of the
// same position, or the only one) is one COPY of the requests: in it
// request k is spoken by voice k % V and gets SNR (k / V) % S, so several
// voices and noise levels share the data. Several copies add data instead
// of splitting it: "--voice slt --snr inf --voice en-us+f2,slt,en-us+klatt
// --snr inf,20" has every request said clean by slt AND once more by the
// mix. "voice@snr" in a list fixes that voice's SNR ("slt@20,en-us+f2"
// with --snr inf,20: slt always at 20 dB, f2 clean and 20 dB in turn).
// One voice alone over-fits (an slt-only model cannot hear espeak
// voices), clean speech alone costs robustness to noise: numbers in
// docs/results.md. Copy c uses noise seed --seed + c.
//
// Steps: synthesise each request, compute its features with sphinxbase's
// front end configured from the model's feat.params (what the decoder
// computes), write the Sphinx .mfc files, a control file and a
// transcription; convert the model's binary mdef to text and its 8-bit
// sendump to a float mixture_weights file (what sphinxtrain reads); run
// sphinxtrain's `bw` (Baum-Welch statistics; --jobs processes at once, each
// on a slice of the utterances) and `map_adapt` (MAP update of means,
// variances, mixture weights and transition matrices, or those --update
// names); write the adapted model to DIR (mdef, feat.params, noisedict,
// means, variances, mixture_weights, transition_matrices), which
// pocketsphinx loads with -hmm DIR. The work files go to DIR/../adapt-work
// and are removed on success.
//
// --holdout-every K --holdout-offset R leaves request k (in file order,
// grouped as cascade-asr-tune groups them) out when k % K == R, so the
// tuner's DEV requests are never adaptation data.
#include "audio.hpp"
#include "cmudict.hpp"
#include "speechsim.hpp"

#include <CLI/CLI.hpp>
#include <sphinxbase/cmd_ln.h>
#include <sphinxbase/err.h>
#include <sphinxbase/fe.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <thread>

#include <sys/wait.h>

namespace fs = std::filesystem;
namespace sp = cascade::speech;

// libpocketsphinx exports these, but no public header declares them.
extern "C" {
struct bin_mdef_s;
bin_mdef_s* bin_mdef_read(cmd_ln_t* config, const char* filename);
int bin_mdef_write_text(bin_mdef_s* m, const char* filename);
int bin_mdef_free(bin_mdef_s* m);
}

namespace {

[[noreturn]] void fail(const std::string& code, const std::string& what) { throw sp::SpeechError(code, what); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail("A010", "model file not found: " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// sendump (pocketsphinx's 8-bit mixture weights) -> sphinxtrain's float
// mixture_weights [senone][feature][codeword]. A sendump value v stands for
// p = 1.0001^-(v << shift); each senone's weights are renormalised.
void sendump_to_mixw(const fs::path& in_path, const fs::path& out_path) {
  const std::string d = read_file(in_path);
  size_t pos = 0;
  auto int32_at = [&]() -> uint32_t {
    if (pos + 4 > d.size()) fail("A021", "truncated sendump " + in_path.string());
    uint32_t v = 0;
    std::memcpy(&v, d.data() + pos, 4);
    pos += 4;
    return v;
  };
  std::map<std::string, std::string> hdr;
  for (;;) {
    const uint32_t n = int32_at();
    if (n == 0) break;
    if (n > 4096 || pos + n > d.size()) fail("A021", "unreadable sendump header in " + in_path.string());
    std::string s(d.data() + pos, n);
    pos += n;
    while (!s.empty() && s.back() == '\0') s.pop_back();
    if (const size_t sp = s.find(' '); sp != std::string::npos) hdr[s.substr(0, sp)] = s.substr(sp + 1);
  }
  if (hdr.count("cluster_count") != 0 && hdr["cluster_count"] != "0")
    fail("A021", "clustered sendump not supported: " + in_path.string());
  const uint32_t n_cw = int32_at(), n_sen = int32_at();
  const uint32_t n_feat = hdr.count("feature_count") != 0 ? static_cast<uint32_t>(std::stoul(hdr["feature_count"])) : 1;
  const int shift = hdr.count("mixw_shift") != 0 ? std::stoi(hdr["mixw_shift"]) : 10;
  if (d.size() - pos != static_cast<size_t>(n_cw) * n_sen * n_feat)
    fail("A021", "sendump size does not match its header: " + in_path.string());
  const auto* body = reinterpret_cast<const unsigned char*>(d.data() + pos);
  std::vector<float> w(static_cast<size_t>(n_sen) * n_feat * n_cw);
  for (uint32_t f = 0; f < n_feat; ++f)
    for (uint32_t c = 0; c < n_cw; ++c)
      for (uint32_t s = 0; s < n_sen; ++s) {
        const double v = static_cast<double>(static_cast<uint32_t>(body[(static_cast<size_t>(f) * n_cw + c) * n_sen + s]) << shift);
        w[(static_cast<size_t>(s) * n_feat + f) * n_cw + c] = static_cast<float>(std::pow(1.0001, -v));
      }
  for (size_t k = 0; k < w.size(); k += n_cw) {
    double z = 0;
    for (uint32_t c = 0; c < n_cw; ++c) z += w[k + c];
    for (uint32_t c = 0; c < n_cw; ++c) w[k + c] = static_cast<float>(w[k + c] / z);
  }
  // Sphinx-III binary parameter file: text header, byte-order magic, dims, count, data.
  std::string head = "s3\nversion 1.0\n";
  if (const size_t lsb = (head.size() + 7) & 3; lsb != 0) head += std::string(4 - lsb, ' ');
  head += "endhdr\n";
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << head;
  const uint32_t dims[] = {0x11223344u, n_sen, n_feat, n_cw, static_cast<uint32_t>(w.size())};
  out.write(reinterpret_cast<const char*>(dims), sizeof dims);
  out.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(w.size() * sizeof(float)));
  if (!out) fail("A020", "cannot write " + out_path.string());
}

// Cepstra as pocketsphinx's decoder computes them, written as a Sphinx
// feature file: int32 number of floats, then the floats (native order; the
// readers detect the byte order from the count).
void write_mfc(fe_t* fe, std::span<const int16_t> pcm, const fs::path& path) {
  const int ncep = fe_get_output_size(fe);
  fe_start_utt(fe);
  const int16* p = pcm.data();
  size_t left = pcm.size();
  int32 max_frames = 0;
  fe_process_frames(fe, nullptr, &left, nullptr, &max_frames, nullptr);
  std::vector<float> cep(static_cast<size_t>(max_frames + 2) * static_cast<size_t>(ncep));
  std::vector<mfcc_t*> rows(static_cast<size_t>(max_frames + 2));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = cep.data() + i * static_cast<size_t>(ncep);
  int32 n = max_frames;
  fe_process_frames(fe, &p, &left, rows.data(), &n, nullptr);
  int32 tail = 0;
  fe_end_utt(fe, rows[static_cast<size_t>(n)], &tail);
  n += tail;
  const auto count = static_cast<int32_t>(n * ncep);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&count), 4);
  out.write(reinterpret_cast<const char*>(cep.data()), static_cast<std::streamsize>(count) * 4);
  if (!out) fail("A020", "cannot write " + path.string());
}

void run(const std::vector<std::string>& argv, const fs::path& log) {
  std::string cmd;
  for (const auto& a : argv) {
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += q + "' ";
  }
  cmd += "> '" + log.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
    fail("A021", fs::path(argv[0]).filename().string() + " failed (exit " + std::to_string(rc) + "), see " + log.string());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MAP-adapt the pocketsphinx acoustic model to the synthetic voice on the training sentences"};
  std::string sentences_path, dict_path, out_dir, hmm = "/usr/share/pocketsphinx/model/en-us/en-us";
  std::vector<std::string> voice_lists{"slt"}, snr_lists{"inf"};
  std::string update = "means,variances,mixw,tmat";
  double tau = 10.0;
  bool fixed_tau = false;
  std::string bw = "/usr/lib/sphinxtrain/bw", map_adapt = "/usr/lib/sphinxtrain/map_adapt";
  size_t every = 1, holdout_every = 0, holdout_offset = 0;
  int iterations = 2;
  unsigned parts = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  uint64_t seed = 11;
  app.add_option("--sentences", sentences_path, "training sentences (\"alexa ...\" lines are used)")->required();
  app.add_option("--dict", dict_path, "pronunciation dictionary covering them (domain.dict)")->required();
  app.add_option("--out", out_dir, "directory for the adapted model")->required();
  app.add_option("--hmm", hmm, "acoustic model to adapt")->capture_default_str();
  app.add_option("--voice", voice_lists,
                 "speechsim voice, or a comma list: request k is spoken by voice k % n; "
                 "each list given is one more copy of the requests")
      ->capture_default_str();
  app.add_option("--snr", snr_lists, "SNR(s) in dB of the adaptation speech, comma list ('inf' = clean): "
                 "request k gets SNR (k / voices) % n; one list per --voice list, or one for all")
      ->capture_default_str();
  app.add_option("--tau", tau, "map_adapt's uniform prior weight tau (only with --fixed-tau)")->capture_default_str();
  app.add_flag("--fixed-tau", fixed_tau,
               "map_adapt -fixedtau yes -bayesmean no: --tau for every parameter instead of map_adapt's "
               "per-density estimates and Bayesian mean update");
  app.add_option("--update", update, "parameters the MAP update replaces, comma list of means,variances,mixw,tmat")
      ->capture_default_str();
  app.add_option("--iterations", iterations, "Baum-Welch + MAP passes (each starts from the previous result)")
      ->capture_default_str();
  app.add_option("--jobs", parts, "bw processes run at once, each on a slice of the utterances (default: cores, at most 8)")
      ->capture_default_str();
  app.add_option("--seed", seed, "speechsim noise seed")->capture_default_str();
  app.add_option("--every", every, "use every N-th request")->capture_default_str();
  app.add_option("--holdout-every", holdout_every, "leave request k out when k % this == offset (0 = none)");
  app.add_option("--holdout-offset", holdout_offset, "see --holdout-every");
  app.add_option("--bw", bw, "sphinxtrain bw")->capture_default_str();
  app.add_option("--map-adapt", map_adapt, "sphinxtrain map_adapt")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto t_start = std::chrono::steady_clock::now();
  try {
    if (every == 0) throw std::invalid_argument("--every must be at least 1");
    if (iterations < 1) throw std::invalid_argument("--iterations must be at least 1");
    if (parts < 1) throw std::invalid_argument("--jobs must be at least 1");
    auto split = [](const std::string& list) {
      std::vector<std::string> out;
      std::stringstream vs(list);
      for (std::string v; std::getline(vs, v, ',');)
        if (!v.empty()) out.push_back(v);
      return out;
    };
    if (snr_lists.size() != 1 && snr_lists.size() != voice_lists.size())
      throw std::invalid_argument("give one --snr list, or one per --voice list");
    struct Copy {
      std::vector<std::string> voices;
      std::vector<std::optional<double>> voice_snr;  // "voice@snr": this voice always at that SNR
      std::vector<double> snrs;
    };
    std::vector<Copy> copies;
    for (size_t c = 0; c < voice_lists.size(); ++c) {
      Copy cp;
      for (auto v : split(voice_lists[c])) {
        std::optional<double> at;
        if (const size_t a = v.find('@'); a != std::string::npos) {
          at = sp::parse_snr(v.substr(a + 1));
          v.resize(a);
        }
        cp.voices.push_back(v);
        cp.voice_snr.push_back(at);
      }
      for (const auto& v : split(snr_lists[snr_lists.size() == 1 ? 0 : c])) cp.snrs.push_back(sp::parse_snr(v));
      if (cp.voices.empty()) throw std::invalid_argument("--voice is empty");
      if (cp.snrs.empty()) throw std::invalid_argument("--snr is empty");
      copies.push_back(std::move(cp));
    }
    std::set<std::string> updated;
    for (const auto& u : split(update)) {
      if (u != "means" && u != "variances" && u != "mixw" && u != "tmat")
        throw std::invalid_argument("--update: unknown parameter " + u);
      updated.insert(u);
    }
    std::string voice;
    for (const auto& v : voice_lists) voice += (voice.empty() ? "" : " + ") + v;
    for (const auto& tool : {bw, map_adapt})
      if (!fs::exists(tool)) fail("A010", "sphinxtrain tool not found: " + tool + " (Debian package sphinxtrain)");
    const fs::path model(hmm), out(out_dir), work = fs::path(out_dir).parent_path() / "adapt-work";
    for (const char* f : {"mdef", "feat.params", "noisedict", "means", "variances", "transition_matrices"})
      if (!fs::exists(model / f)) fail("A010", "model file not found: " + (model / f).string());
    // Stock models carry 8-bit weights (sendump); an adapted one float weights (mixture_weights).
    const bool float_mixw = fs::exists(model / "mixture_weights");
    if (!float_mixw && !fs::exists(model / "sendump")) fail("A010", "model file not found: " + (model / "sendump").string());
    const fs::path mixw = float_mixw ? model / "mixture_weights" : work / "mixture_weights";

    // Words the dictionary can say.
    std::set<std::string, std::less<>> known;
    {
      std::ifstream d(dict_path);
      if (!d) fail("A010", "model file not found: " + dict_path);
      for (std::string l; std::getline(d, l);) {
        std::string w = l.substr(0, l.find_first_of(" \t"));
        if (const size_t paren = w.find('('); paren != std::string::npos && paren > 0) w.resize(paren);
        known.insert(std::move(w));
      }
    }
    // Requests in file order (as cascade-asr-tune groups them); the "alexa" form is what the pipeline hears.
    std::ifstream in(sentences_path);
    if (!in) fail("A010", "sentences file not found: " + sentences_path);
    std::map<std::string, size_t> index;
    std::vector<std::vector<std::string>> utts;
    for (std::string l; std::getline(in, l);) {
      auto toks = sp::tokenize(l);
      if (toks.empty()) continue;
      const bool woke = toks[0] == "alexa" && toks.size() > 1;
      std::string key;
      for (size_t i = woke ? 1 : 0; i < toks.size(); ++i) key += toks[i] + " ";
      const size_t k = index.emplace(key, index.size()).first->second;
      if (!woke || k % every != 0) continue;
      if (holdout_every > 0 && k % holdout_every == holdout_offset) continue;
      if (std::all_of(toks.begin(), toks.end(), [&](const auto& w) { return known.count(w) != 0; }))
        utts.push_back(std::move(toks));
    }
    if (utts.empty()) fail("A023", "no usable training sentence in " + sentences_path);

    fs::remove_all(work);
    fs::create_directories(work / "feat");
    fs::create_directories(out);

    // Front end from the model's feat.params, as the decoder configures it.
    err_set_logfp(nullptr);
    cmd_ln_t* fe_cfg = cmd_ln_parse_file_r(nullptr, fe_get_args(), (model / "feat.params").c_str(), FALSE);
    if (fe_cfg == nullptr) fail("A021", "cannot read " + (model / "feat.params").string());
    cmd_ln_set_float_r(fe_cfg, "-samprate", 16000.0);
    std::unique_ptr<fe_t, decltype(&fe_free)> fe(fe_init_auto_r(fe_cfg), &fe_free);
    cmd_ln_free_r(fe_cfg);
    if (!fe) fail("A021", "cannot initialise the sphinxbase front end");

    sp::SimOptions o;
    std::ofstream ctl(work / "adapt.fileids"), trn(work / "adapt.transcription");
    double audio_s = 0;
    size_t n_utts = 0;
    for (size_t c = 0; c < copies.size(); ++c) {
      const auto& [voices, voice_snr, snrs] = copies[c];
      o.seed = seed + c;
      for (size_t i = 0; i < utts.size(); ++i) {
        std::string text;
        for (const auto& w : utts[i]) text += (text.empty() ? "" : " ") + w;
        o.voice = voices[i % voices.size()];
        o.snr_db = voice_snr[i % voices.size()].value_or(snrs[(i / voices.size()) % snrs.size()]);
        const sp::SimAudio a = sp::simulate(text, o);
        audio_s += static_cast<double>(a.samples.size()) / 16000.0;
        char id[32];
        std::snprintf(id, sizeof id, "u%05zu", n_utts++);
        write_mfc(fe.get(), a.samples, work / "feat" / (std::string(id) + ".mfc"));
        ctl << id << "\n";
        trn << "<s> " << text << " </s> (" << id << ")\n";
      }
    }
    ctl.close();
    trn.close();

    // What sphinxtrain reads: a text mdef and float mixture weights.
    {
      bin_mdef_s* m = bin_mdef_read(nullptr, (model / "mdef").c_str());
      if (m == nullptr) fail("A021", "cannot read " + (model / "mdef").string());
      const int rc = bin_mdef_write_text(m, (work / "mdef.txt").c_str());
      bin_mdef_free(m);
      if (rc != 0) fail("A020", "cannot write " + (work / "mdef.txt").string());
    }
    if (!float_mixw) sendump_to_mixw(model / "sendump", mixw);

    const std::string feat = read_file(model / "feat.params");
    auto param = [&](const std::string& name, const std::string& fallback) {
      std::istringstream s(feat);
      for (std::string k, v; s >> k >> v;)
        if (k == name) return v;
      return fallback;
    };
    // Each iteration re-estimates with the previous one's model (the first from the stock one).
    fs::path means = model / "means", vars = model / "variances", tmat = model / "transition_matrices";
    fs::path cur_mixw = mixw;
    for (int it = 1; it <= iterations; ++it) {
      const fs::path next = work / ("it" + std::to_string(it));
      fs::create_directories(next);
      // bw over `parts` slices of the utterances at once; map_adapt sums their counts.
      std::vector<std::string> accs;
      std::vector<std::thread> bws;
      std::vector<std::exception_ptr> errors(parts);
      for (unsigned part = 1; part <= parts; ++part) {
        const std::string tag = std::to_string(it) + "." + std::to_string(part);
        accs.push_back((work / ("acc" + tag)).string());
        fs::create_directories(accs.back());
        std::vector<std::string> args{
            bw, "-moddeffn", (work / "mdef.txt").string(), "-ts2cbfn", param("-model", "ptm") == "ptm" ? ".ptm." : ".semi.",
            "-meanfn", means.string(), "-varfn", vars.string(), "-mixwfn", cur_mixw.string(), "-tmatfn", tmat.string(),
            "-feat", param("-feat", "1s_c_d_dd"), "-svspec", param("-svspec", "0-12/13-25/26-38"), "-cmn",
            param("-cmn", "batch"), "-agc", param("-agc", "none"), "-dictfn", dict_path, "-fdictfn",
            (model / "noisedict").string(), "-ctlfn", (work / "adapt.fileids").string(), "-lsnfn",
            (work / "adapt.transcription").string(), "-cepdir", (work / "feat").string(), "-accumdir", accs.back(),
            "-npart", std::to_string(parts), "-part", std::to_string(part)};
        bws.emplace_back([&errors, part, args = std::move(args), log = work / ("bw" + tag + ".log")] {
          try {
            run(args, log);
          } catch (...) {
            errors[part - 1] = std::current_exception();
          }
        });
      }
      for (auto& t : bws) t.join();
      for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
      std::vector<std::string> map_args{map_adapt, "-moddeffn", (work / "mdef.txt").string(), "-ts2cbfn",
           param("-model", "ptm") == "ptm" ? ".ptm." : ".semi.", "-meanfn", means.string(), "-varfn", vars.string(),
           "-mixwfn", cur_mixw.string(), "-tmatfn", tmat.string(), "-accumdir"};
      std::string acc_list;  // sphinxbase reads a string list comma-separated
      if (work.string().find(',') != std::string::npos)
        fail("A021", "map_adapt cannot take a work directory with a comma in its path: " + work.string());
      for (const auto& a : accs) acc_list += (acc_list.empty() ? "" : ",") + a;
      map_args.insert(map_args.end(), {acc_list, "-mapmeanfn",
           (next / "means").string(), "-mapvarfn", (next / "variances").string(), "-mapmixwfn",
           (next / "mixture_weights").string(), "-maptmatfn", (next / "transition_matrices").string(), "-tau",
           std::to_string(tau), "-fixedtau", fixed_tau ? "yes" : "no", "-bayesmean", fixed_tau ? "no" : "yes"});
      run(map_args, work / ("map_adapt" + std::to_string(it) + ".log"));
      // Parameters not updated keep the previous pass's values.
      if (updated.count("means") != 0) means = next / "means";
      if (updated.count("variances") != 0) vars = next / "variances";
      if (updated.count("mixw") != 0) cur_mixw = next / "mixture_weights";
      if (updated.count("tmat") != 0) tmat = next / "transition_matrices";
    }
    fs::copy_file(means, out / "means", fs::copy_options::overwrite_existing);
    fs::copy_file(vars, out / "variances", fs::copy_options::overwrite_existing);
    fs::copy_file(cur_mixw, out / "mixture_weights", fs::copy_options::overwrite_existing);
    fs::copy_file(tmat, out / "transition_matrices", fs::copy_options::overwrite_existing);
    for (const char* f : {"mdef", "feat.params", "noisedict"})
      fs::copy_file(model / f, out / f, fs::copy_options::overwrite_existing);
    fs::remove(out / "sendump");  // pocketsphinx would prefer a stale sendump over mixture_weights
    fs::remove_all(work);
    std::printf("cascade-asr-adapt: %zu utterances (%.0f s of %s speech), %.0f s -> %s\n", n_utts, audio_s,
                voice.c_str(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(),
                out_dir.c_str());
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
