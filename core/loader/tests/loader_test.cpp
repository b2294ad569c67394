// Pins down the loader's refusal sequence (core/include/cascade/core/loader.hpp):
// every broken plugin is refused with its stable code, a message naming the
// file and the reason, and the process carries on loading the others.
#include <cascade/core/loader.hpp>

#include <elf.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <unistd.h>

namespace fs = std::filesystem;
using cascade::CascadeError;
using cascade::PluginRegistry;

namespace {

const fs::path kFixtures = FIXTURE_DIR;

// Loads `file` and returns the refusal; fails the test if it loads.
CascadeError refusal(const fs::path& file) {
  PluginRegistry reg;
  try {
    reg.load(file);
  } catch (const CascadeError& e) {
    return e;
  }
  ADD_FAILURE() << file << " loaded but should have been refused";
  return CascadeError("none", "loaded");
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("cascade_loader_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(Loader, LoadsAGoodPluginWrittenInC) {
  PluginRegistry reg;
  const auto& p = reg.load(kFixtures / "good.so");
  EXPECT_EQ(p.info.name, "c_echo");
  EXPECT_EQ(p.info.abi_major, CASCADE_ABI_MAJOR);
  ASSERT_EQ(p.info.inputs.size(), 1u);
  EXPECT_EQ(p.info.inputs[0].doc, "input");
  ASSERT_EQ(p.info.params.size(), 1u);
  EXPECT_EQ(p.info.params[0].default_value, "3");
}

TEST(Loader, ReadsAnOlderSmallerPortLayoutByItsDeclaredSize) {
  PluginRegistry reg;
  const auto& p = reg.load(kFixtures / "old_layout.so");
  ASSERT_EQ(p.info.inputs.size(), 2u);
  EXPECT_EQ(p.info.inputs[1].name, "extra");
  EXPECT_EQ(p.info.inputs[1].type, static_cast<uint32_t>(CASCADE_PAYLOAD_JSON));
  EXPECT_FALSE(p.info.inputs[1].optional);  // flags lie outside the old struct: not read
  EXPECT_TRUE(p.info.inputs[1].doc.empty());
}

TEST(Loader, RefusesAbiMajorPlusOneWithoutRunningIt) {
  auto e = refusal(kFixtures / "abi_major_plus_one.so");
  EXPECT_EQ(e.code(), "L003");
  EXPECT_NE(std::string(e.what()).find("ABI major 2"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("abi_major_plus_one.so"), std::string::npos);
}

TEST(Loader, FindsTheEntryPointOfAStrippedPluginInItsDynamicSymbols) {
  // strip --strip-all leaves only .dynsym, which is all dlsym() needs; a
  // loader reading .symtab would call this "no entry point" (L004).
  PluginRegistry reg;
  const auto& p = reg.load(kFixtures / "stripped" / "good.so");
  EXPECT_EQ(p.info.name, "c_echo");
  auto e = refusal(kFixtures / "stripped" / "abi_major_plus_one.so");
  EXPECT_EQ(e.code(), "L003") << e.what();
  EXPECT_NE(std::string(e.what()).find("ABI major 2"), std::string::npos) << e.what();
}

std::string good_bytes() {
  std::ifstream in(kFixtures / "good.so", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// good.so's bytes, with the section header of its dynamic symbol table
// handed to `patch`, written to a fresh file.
fs::path with_dynsym_patched(const std::string& name, const std::function<void(Elf64_Shdr&)>& patch) {
  std::string b = good_bytes();
  Elf64_Ehdr eh;
  std::memcpy(&eh, b.data(), sizeof eh);
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    const size_t at = eh.e_shoff + i * sizeof sh;
    std::memcpy(&sh, b.data() + at, sizeof sh);
    if (sh.sh_type != SHT_DYNSYM) continue;
    patch(sh);
    std::memcpy(b.data() + at, &sh, sizeof sh);
  }
  const fs::path out = temp_dir(name) / "good.so";
  std::ofstream(out, std::ios::binary) << b;
  return out;
}

TEST(Loader, RefusesACorruptDynamicSymbolTableWithL002BeforeRunningIt) {
  const uint64_t size = fs::file_size(kFixtures / "good.so");
  auto e = refusal(with_dynsym_patched("dynsym_far", [&](Elf64_Shdr& sh) { sh.sh_offset = size + 4096; }));
  EXPECT_EQ(e.code(), "L002");
  EXPECT_NE(std::string(e.what()).find("dynamic symbol table lies outside the file"), std::string::npos) << e.what();
  e = refusal(with_dynsym_patched("dynsym_entsize", [](Elf64_Shdr& sh) { sh.sh_entsize = 7; }));
  EXPECT_EQ(e.code(), "L002");
  EXPECT_NE(std::string(e.what()).find("corrupt dynamic symbol table"), std::string::npos) << e.what();
  e = refusal(with_dynsym_patched("dynsym_link", [](Elf64_Shdr& sh) { sh.sh_link = 60000; }));
  EXPECT_EQ(e.code(), "L002");
  fs::remove_all(temp_dir("dynsym_far"));
  fs::remove_all(temp_dir("dynsym_entsize"));
  fs::remove_all(temp_dir("dynsym_link"));
}

// The sizes are checked against the file before anything is allocated:
// a section claiming 2^60 bytes is a coded refusal, not bad_alloc.
TEST(Loader, RefusesAHugeSymbolOrStringTableSizeWithL002BeforeAllocating) {
  auto e = refusal(with_dynsym_patched("dynsym_huge", [](Elf64_Shdr& sh) { sh.sh_size = uint64_t{1} << 60; }));
  EXPECT_EQ(e.code(), "L002");
  EXPECT_NE(std::string(e.what()).find("dynamic symbol table lies outside the file"), std::string::npos) << e.what();
  fs::remove_all(temp_dir("dynsym_huge"));
}

TEST(Loader, RefusesA32BitElfWithL002) {
  std::string b = good_bytes();
  b[EI_CLASS] = ELFCLASS32;
  const fs::path d = temp_dir("elf32");
  std::ofstream(d / "good.so", std::ios::binary) << b;
  auto e = refusal(d / "good.so");
  EXPECT_EQ(e.code(), "L002");
  EXPECT_NE(std::string(e.what()).find("not a 64-bit little-endian ELF"), std::string::npos) << e.what();
  fs::remove_all(d);
}

TEST(Loader, RefusesALargerMinorNamingBothVersions) {
  auto e = refusal(kFixtures / "minor_plus_one.so");
  EXPECT_EQ(e.code(), "L009");
  const std::string host = std::to_string(CASCADE_ABI_MAJOR) + "." + std::to_string(CASCADE_ABI_MINOR);
  const std::string plugin = std::to_string(CASCADE_ABI_MAJOR) + "." + std::to_string(CASCADE_ABI_MINOR + 1);
  EXPECT_NE(std::string(e.what()).find(host), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(plugin), std::string::npos) << e.what();
}

TEST(Loader, RefusesALibraryWithoutTheEntrySymbol) {
  auto e = refusal(kFixtures / "no_entry.so");
  EXPECT_EQ(e.code(), "L004");
  EXPECT_NE(std::string(e.what()).find(CASCADE_ENTRY_SYMBOL), std::string::npos);
}

TEST(Loader, RefusesAnUnresolvedSymbolAtLoadNotAtFirstCall) {
  auto e = refusal(kFixtures / "unresolved.so");
  EXPECT_EQ(e.code(), "L005");
  EXPECT_NE(std::string(e.what()).find("cascade_fixture_missing_symbol"), std::string::npos) << e.what();
}

TEST(Loader, RefusesAFileThatIsNotASharedLibrary) {
  auto d = temp_dir("notelf");
  std::ofstream(d / "text.so") << "this is not a library\n";
  auto e = refusal(d / "text.so");
  EXPECT_EQ(e.code(), "L002");
  fs::remove_all(d);
}

TEST(Loader, RefusesATruncatedLibrary) {
  auto d = temp_dir("truncated");
  fs::copy_file(kFixtures / "good.so", d / "cut.so");
  fs::resize_file(d / "cut.so", fs::file_size(d / "cut.so") / 2);
  auto e = refusal(d / "cut.so");
  EXPECT_EQ(e.code(), "L002");
  EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  fs::remove_all(d);
}

TEST(Loader, RefusesADescriptorWithATooSmallStructSize) {
  auto e = refusal(kFixtures / "small_struct.so");
  EXPECT_EQ(e.code(), "L007");
}

TEST(Loader, RefusesANullDescriptor) { EXPECT_EQ(refusal(kFixtures / "null_descriptor.so").code(), "L006"); }

TEST(Loader, RefusesADefaultThatDoesNotParseAsItsType) {
  auto e = refusal(kFixtures / "bad_default.so");
  EXPECT_EQ(e.code(), "L010");
  EXPECT_NE(std::string(e.what()).find("three"), std::string::npos);
}

TEST(Loader, RefusesAMissingFile) { EXPECT_EQ(refusal(kFixtures / "nope.so").code(), "L001"); }

TEST(Loader, RefusesADuplicateNameNamingBothPaths) {
  PluginRegistry reg;
  reg.load(kFixtures / "good.so");
  try {
    reg.load(kFixtures / "dup" / "dup_name.so");
    FAIL() << "duplicate loaded";
  } catch (const CascadeError& e) {
    EXPECT_EQ(e.code(), "L011");
    EXPECT_NE(std::string(e.what()).find("good.so"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("dup_name.so"), std::string::npos) << e.what();
  }
}

TEST(Loader, ScanReportsEveryRefusalAndKeepsLoadingTheOthers) {
  PluginRegistry reg;
  auto refused = reg.scan({kFixtures, BUILTIN_PLUGIN_DIR});
  std::set<std::string> codes;
  for (const auto& d : refused) codes.insert(d.code);
  // L004 (not a cascade plugin at all) is silently skipped when scanning.
  EXPECT_EQ(codes, (std::set<std::string>{"L003", "L005", "L006", "L007", "L009", "L010"}));
  EXPECT_NE(reg.find("c_echo"), nullptr);
  EXPECT_NE(reg.find("c_old"), nullptr);
  EXPECT_NE(reg.find("noop"), nullptr);
  EXPECT_NE(reg.find("normalize"), nullptr);
  EXPECT_EQ(reg.searched().size(), 2u);
}

TEST(Loader, LoadingTheSameFileTwiceReturnsTheSamePlugin) {
  PluginRegistry reg;
  const auto& a = reg.load(kFixtures / "good.so");
  const auto& b = reg.load(kFixtures / "." / "good.so");
  EXPECT_EQ(&a, &b);
}

TEST(Loader, SearchPathPutsConfiguredThenEnvironmentThenBuiltin) {
  ::setenv("CASCADE_PLUGIN_PATH", "/env/a:/env/b", 1);
  auto p = PluginRegistry::search_path({"/configured"});
  ::unsetenv("CASCADE_PLUGIN_PATH");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], "/configured");
  EXPECT_EQ(p[1], "/env/a");
  EXPECT_EQ(p[2], "/env/b");
  EXPECT_EQ(p[3], PluginRegistry::builtin_dir());
}
