// standalone_driver.cpp — runs a fuzz target without libFuzzer, so the
// default (gcc) build and test suite exercise every target too.
//
//   cascade_fuzz_NAME [--seconds S] [--runs N] [--seed K] [--artifacts DIR] CORPUS...
//
// CORPUS is any mix of files and directories (not recursive). Every corpus
// input is run once as it is; then, until S seconds (default 10) or N
// mutated runs (default: no limit) have passed, a corpus input is picked,
// mutated (bit flips, interesting bytes and integers, truncation, insertion,
// deletion, duplication, splicing with another input) and run. The mutations
// are a function of the seed alone, so `--seed K --runs N` replays a run.
// There is no coverage feedback: this is the cheap, always-on companion of
// the libFuzzer build (scripts/fuzz.sh), not a replacement for it.
//
// A crash, a sanitizer report or an input that runs longer than 10 s
// leaves the input in DIR/crash-<target>-<seed>-<run> (the exit status is
// then non-zero); keep it as a regression input under tests/fuzz/corpus/.
// Threading: single-threaded.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Set when a sanitizer is linked in: called before a sanitizer report exits.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

// What a crash handler needs: the input being run and where to keep it.
// Plain globals, written before each run, read from signal handlers.
std::string g_current;
char g_artifact[4096] = "";

void save_current_input() {
  if (g_artifact[0] == '\0') return;
  const int fd = ::open(g_artifact, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  size_t done = 0;
  while (done < g_current.size()) {
    const ssize_t n = ::write(fd, g_current.data() + done, g_current.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  constexpr char kSaved[] = "\nstandalone fuzz: the input is saved in ";
  (void)!::write(2, kSaved, sizeof kSaved - 1);
  (void)!::write(2, g_artifact, std::strlen(g_artifact));
  (void)!::write(2, "\n", 1);
}

void on_fatal_signal(int sig) {
  if (sig == SIGALRM) {
    constexpr char kHang[] = "\nstandalone fuzz: an input ran longer than 10 s (a hang)";
    (void)!::write(2, kHang, sizeof kHang - 1);
  }
  save_current_input();
  ::signal(sig, SIG_DFL);
  ::raise(sig == SIGALRM ? SIGABRT : sig);
}

void install_crash_handlers() {
  for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) ::signal(sig, on_fatal_signal);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(save_current_input);
}

struct Options {
  double seconds = 10;
  uint64_t runs = 0;  // 0: no limit
  uint64_t seed = 1;
  fs::path artifacts = ".";
  std::vector<fs::path> corpus;
};

[[noreturn]] void usage(const char* why) {
  std::cerr << "standalone fuzz: " << why
            << "\nusage: cascade_fuzz_NAME [--seconds S] [--runs N] [--seed K] [--artifacts DIR] CORPUS...\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--seconds") o.seconds = std::stod(value());
    else if (arg == "--runs") o.runs = std::stoull(value());
    else if (arg == "--seed") o.seed = std::stoull(value());
    else if (arg == "--artifacts") o.artifacts = value();
    else if (arg.rfind("--", 0) == 0) usage(("unknown option " + arg).c_str());
    else o.corpus.emplace_back(arg);
  }
  if (o.corpus.empty()) usage("no corpus given");
  return o;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Corpus inputs in a stable order (directories sorted by name).
std::vector<std::string> load_corpus(const std::vector<fs::path>& paths) {
  std::vector<std::string> inputs;
  for (const auto& p : paths) {
    std::vector<fs::path> files;
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::cerr << "standalone fuzz: no such corpus file or directory: " << p.string() << "\n";
      std::exit(2);
    }
    for (const auto& f : files) inputs.push_back(read_file(f));
  }
  return inputs;
}

// The seeded mutator: one to four edits per run.
class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  std::string mutate(const std::string& base, const std::vector<std::string>& corpus) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(below(4));
    for (int i = 0; i < edits; ++i) edit(s, corpus);
    return s;
  }

 private:
  uint64_t below(uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  void edit(std::string& s, const std::vector<std::string>& corpus) {
    static constexpr std::array<uint8_t, 10> kBytes{0x00, 0x01, 0x7F, 0x80, 0xFF, '"', '\\', '{', '\n', '='};
    static constexpr std::array<uint64_t, 8> kIntegers{0,          1,          0x7F,       0xFF,
                                                       0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, ~uint64_t{0}};
    static const std::array<std::string, 8> kTokens{"[[stages]]", "\"audio\"", "\\u0000", "extends", "{}",
                                                    "[",          "1e999",     "\xF0\x9F\x98"};
    switch (below(9)) {
      case 0:  // flip a bit
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1:  // an interesting byte
        if (!s.empty()) s[below(s.size())] = static_cast<char>(kBytes[below(kBytes.size())]);
        break;
      case 2: {  // an interesting integer, 1/2/4/8 bytes little-endian
        const size_t width = size_t{1} << below(4);
        if (s.size() < width) break;
        const uint64_t v = kIntegers[below(kIntegers.size())];
        const size_t at = below(s.size() - width + 1);
        for (size_t k = 0; k < width; ++k) s[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
        break;
      }
      case 3:  // truncate
        s.resize(below(s.size() + 1));
        break;
      case 4: {  // insert random bytes
        std::string bytes(1 + below(16), '\0');
        for (auto& c : bytes) c = static_cast<char>(below(256));
        s.insert(below(s.size() + 1), bytes);
        break;
      }
      case 5: {  // delete a range
        if (s.empty()) break;
        const size_t at = below(s.size());
        s.erase(at, 1 + below(std::min<size_t>(64, s.size() - at)));
        break;
      }
      case 6: {  // duplicate a range
        if (s.empty()) break;
        const size_t at = below(s.size());
        const std::string piece = s.substr(at, 1 + below(std::min<size_t>(256, s.size() - at)));
        s.insert(below(s.size() + 1), piece);
        break;
      }
      case 7: {  // splice: a piece of another corpus input
        const std::string& other = corpus[below(corpus.size())];
        if (other.empty()) break;
        const size_t at = below(other.size());
        s.insert(below(s.size() + 1), other.substr(at, 1 + below(other.size() - at)));
        break;
      }
      default:  // a token the readers care about
        s.insert(below(s.size() + 1), kTokens[below(kTokens.size())]);
        break;
    }
  }

  std::mt19937_64 rng_;
};

void run_one(const std::string& input, const std::string& artifact) {
  g_current = input;
  std::snprintf(g_artifact, sizeof g_artifact, "%s", artifact.c_str());
  ::alarm(10);
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(g_current.data()), g_current.size());
  ::alarm(0);
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const std::vector<std::string> corpus = load_corpus(options.corpus);
  if (corpus.empty()) usage("the corpus is empty");
  const std::string target = fs::path(argv[0]).filename().string();
  const std::string prefix = (options.artifacts / ("crash-" + target + "-" + std::to_string(options.seed))).string();
  install_crash_handlers();

  for (size_t i = 0; i < corpus.size(); ++i) run_one(corpus[i], prefix + "-corpus" + std::to_string(i));

  Mutator mutator(options.seed);
  const auto start = std::chrono::steady_clock::now();
  const auto limit = std::chrono::duration<double>(options.seconds);
  uint64_t runs = 0;
  while (options.runs == 0 || runs < options.runs) {
    // The clock is read every 64 runs only: the targets take microseconds.
    if (runs % 64 == 0 && std::chrono::steady_clock::now() - start >= limit) break;
    const std::string& base = corpus[runs % corpus.size()];
    run_one(mutator.mutate(base, corpus), prefix + "-" + std::to_string(runs));
    ++runs;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "standalone fuzz: " << target << ": " << corpus.size() << " corpus inputs, " << runs
            << " mutated runs in " << seconds << " s (seed " << options.seed << "), no crash\n";
  return 0;
}
