// cascade-nlu-train — build tool: trains the fastText intent classifier
// from train_fasttext.txt ("__label__<intent> <sentence>" lines) and saves
// it as intent.bin. Run by the nlu_model target, which add_custom_command
// re-runs only when the training file (or this tool) changes.
//
// Determinism: one training thread and a fixed seed, so the same input
// gives the same model.
#include <CLI/CLI.hpp>

#include <fasttext/args.h>
#include <fasttext/fasttext.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"Train the fastText intent classifier"};
  std::string input, output;
  int epoch = 100, ngrams = 2, dim = 50, bucket = 100000, minn = 0, maxn = 0, seed = 7;
  double lr = 0.5;
  app.add_option("--input", input, "training file: __label__<intent> <sentence> per line")->required();
  app.add_option("--output", output, "model file to write (.bin)")->required();
  app.add_option("--epoch", epoch, "passes over the data")->capture_default_str();
  app.add_option("--lr", lr, "learning rate")->capture_default_str();
  app.add_option("--word-ngrams", ngrams, "max word n-gram length")->capture_default_str();
  app.add_option("--dim", dim, "vector size")->capture_default_str();
  app.add_option("--bucket", bucket, "hash buckets for n-grams")->capture_default_str();
  app.add_option("--minn", minn, "min char n-gram (0 = none)")->capture_default_str();
  app.add_option("--maxn", maxn, "max char n-gram (0 = none)")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!std::ifstream(input)) {
    std::fprintf(stderr, "cascade-nlu-train: error[A010]: training file not found: %s\n", input.c_str());
    return 1;
  }
  fasttext::Args args;
  args.input = input;
  args.output = output;
  args.model = fasttext::model_name::sup;
  args.loss = fasttext::loss_name::softmax;
  args.epoch = epoch;
  args.lr = lr;
  args.wordNgrams = ngrams;
  args.dim = dim;
  args.bucket = bucket;
  args.minn = minn;
  args.maxn = maxn;
  args.minCount = 1;
  args.thread = 1;
  args.seed = seed;
  args.verbose = 0;
  try {
    auto t0 = std::chrono::steady_clock::now();
    fasttext::FastText ft;
    ft.train(args);
    std::filesystem::create_directories(std::filesystem::path(output).parent_path());
    ft.saveModel(output);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("cascade-nlu-train: %d labels, %d words, %.1f s -> %s\n", ft.getDictionary()->nlabels(),
                ft.getDictionary()->nwords(), s, output.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cascade-nlu-train: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
