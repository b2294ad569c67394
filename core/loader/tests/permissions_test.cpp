// The loader refuses a plugin another user could have replaced (L013): a
// world-writable plugin file, or a world-writable directory anywhere on its
// path, as given or as resolved through symlinks. Sticky directories
// (/tmp) are fine: others cannot replace what they do not own there.
#include <cascade/core/loader.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using cascade::CascadeError;
using cascade::PluginRegistry;

namespace {

const fs::path kGood = fs::path(FIXTURE_DIR) / "good.so";

// A fresh directory under the temp dir (itself sticky or private), mode set
// explicitly: the test's umask must not decide the outcome.
class Dir {
 public:
  Dir(const std::string& name, mode_t mode)
      : path_(fs::temp_directory_path() / ("cascade_loader_perm_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
    chmod(mode);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void chmod(mode_t mode) const { ASSERT_EQ(::chmod(path_.c_str(), mode), 0); }
  [[nodiscard]] fs::path copy_plugin(mode_t mode = 0644) const {
    const fs::path to = path_ / "good.so";
    fs::copy_file(kGood, to, fs::copy_options::overwrite_existing);
    EXPECT_EQ(::chmod(to.c_str(), mode), 0);
    return to;
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string refusal(const fs::path& file, const char* code) {
  PluginRegistry registry;
  try {
    registry.load(file);
  } catch (const CascadeError& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << file << " loaded but should have been refused with " << code;
  return {};
}

}  // namespace

TEST(LoaderPermissions, RefusesAPluginInAWorldWritableDirectoryNamingIt) {
  const Dir dir("dir0777", 0755);
  const fs::path plugin = dir.copy_plugin();
  dir.chmod(0777);
  const std::string why = refusal(plugin, "L013");
  EXPECT_NE(why.find("the directory " + dir.path().string()), std::string::npos) << why;
  EXPECT_NE(why.find("mode 0777"), std::string::npos) << why;
  EXPECT_NE(why.find("good.so"), std::string::npos) << why;
}

TEST(LoaderPermissions, RefusesAWorldWritablePluginFile) {
  const Dir dir("file0666", 0755);
  const fs::path plugin = dir.copy_plugin(0666);
  const std::string why = refusal(plugin, "L013");
  EXPECT_NE(why.find("the file is writable by every user (mode 0666)"), std::string::npos) << why;
}

TEST(LoaderPermissions, RefusesAWorldWritableDirectoryHigherUpThePath) {
  const Dir top("parent0777", 0755);
  const fs::path inner = top.path() / "plugins";
  fs::create_directories(inner);
  fs::copy_file(kGood, inner / "good.so");
  top.chmod(0777);
  const std::string why = refusal(inner / "good.so", "L013");
  EXPECT_NE(why.find("the directory " + top.path().string() + " "), std::string::npos) << why;
}

TEST(LoaderPermissions, RefusesASymlinkToAPluginInAWorldWritableDirectoryAndOneLyingInOne) {
  const Dir open_dir("target0777", 0755);
  const Dir safe("links0755", 0755);
  const fs::path plugin = open_dir.copy_plugin();
  open_dir.chmod(0777);
  fs::create_symlink(plugin, safe.path() / "link.so");
  refusal(safe.path() / "link.so", "L013");  // resolved path crosses the open directory

  const Dir safe_target("target0755", 0755);
  const Dir open_links("links0777", 0777);
  fs::create_symlink(safe_target.copy_plugin(), open_links.path() / "link.so");
  refusal(open_links.path() / "link.so", "L013");  // anyone could re-point the link
}

TEST(LoaderPermissions, LoadsFromPrivateAndStickyDirectories) {
  const Dir dir("dir0755", 0755);
  PluginRegistry registry;
  EXPECT_EQ(registry.load(dir.copy_plugin()).info.name, "c_echo");
  const Dir sticky("dir1777", 01777);
  PluginRegistry other;
  EXPECT_EQ(other.load(sticky.copy_plugin()).info.name, "c_echo");
  // Group-writable is allowed (shared team directories).
  const Dir group("dir0775", 0775);
  PluginRegistry third;
  EXPECT_EQ(third.load(group.copy_plugin(0664)).info.name, "c_echo");
}

TEST(LoaderPermissions, ScanReportsTheRefusalInsteadOfSkippingIt) {
  const Dir dir("scan0777", 0755);
  (void)dir.copy_plugin();
  dir.chmod(0777);
  PluginRegistry registry;
  const auto refused = registry.scan({dir.path()});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].code, "L013");
  EXPECT_EQ(registry.find("c_echo"), nullptr);
}
