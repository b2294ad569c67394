// The "@models/" rule of model_path.hpp, on real directories: the installed
// layout wins over the build tree when it holds the file, the build tree
// serves otherwise, and other values pass through untouched.
#include "model_path.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using cascade::plugins::resolve_model_path;

namespace {

struct Tree {
  fs::path root = fs::temp_directory_path() / ("cascade-model-path-" + std::to_string(::getpid()));
  fs::path plugins = root / "prefix/lib/cascade/plugins";
  fs::path installed = root / "prefix/share/cascade/models";
  fs::path build = root / "build/data/assistant";
  Tree() {
    fs::create_directories(plugins);
    fs::create_directories(installed / "asr");
    fs::create_directories(build / "asr");
  }
  ~Tree() { fs::remove_all(root); }
  static void touch(const fs::path& p) { std::ofstream(p) << "x"; }
};

constexpr const char* kRel = "../../../share/cascade/models";

}  // namespace

TEST(ModelPath, ValuesWithoutThePrefixAreUsedAsGiven) {
  EXPECT_EQ(resolve_model_path("/data/my.lm", "/p", kRel, "/b"), "/data/my.lm");
  EXPECT_EQ(resolve_model_path("models/x.lm", "/p", kRel, "/b"), "models/x.lm");
  EXPECT_EQ(resolve_model_path("@modelsx/a", "/p", kRel, "/b"), "@modelsx/a");
}

TEST(ModelPath, TheInstalledModelWinsOverTheBuildTree) {
  Tree t;
  Tree::touch(t.installed / "asr/domain.lm");
  Tree::touch(t.build / "asr/domain.lm");
  EXPECT_EQ(fs::path(resolve_model_path("@models/asr/domain.lm", t.plugins.string(), kRel, t.build.string())),
            t.installed / "asr/domain.lm");
}

TEST(ModelPath, TheBuildTreeServesWhenNothingIsInstalled) {
  Tree t;
  Tree::touch(t.build / "asr/domain.lm");
  EXPECT_EQ(fs::path(resolve_model_path("@models/asr/domain.lm", t.plugins.string(), kRel, t.build.string())),
            t.build / "asr/domain.lm");
}

TEST(ModelPath, AMissingModelIsReportedWhereTheInstallationShouldHaveIt) {
  Tree t;
  EXPECT_EQ(fs::path(resolve_model_path("@models/nlu/intent.bin", t.plugins.string(), kRel, t.build.string())),
            t.installed / "nlu/intent.bin");
  // Without a plugin directory (dladdr failed) only the build tree is left.
  EXPECT_EQ(fs::path(resolve_model_path("@models/nlu/intent.bin", "", kRel, t.build.string())),
            t.build / "nlu/intent.bin");
}
