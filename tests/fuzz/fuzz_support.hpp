// fuzz_support.hpp — what the fuzz targets share: a scratch directory the
// readers read their input from (they take paths, not buffers), and the
// rule for what an input may do.
//
// The rule: a reader given bad bytes answers with its coded error
// (CascadeError, TraceError) or reads what it can; anything else — a
// signal, a sanitizer report, an exception of another type escaping, a
// hang — is a bug the fuzzer reports. So the targets catch the coded error
// types only.
//
// Lifecycle: one Scratch per process (a function-local static), created on
// first use and removed at exit. Threading: single-threaded, like both
// drivers (libFuzzer and tests/fuzz/standalone_driver.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace cascade::fuzz {

class Scratch {
 public:
  // The process's scratch directory (under $TMPDIR, else /tmp).
  static Scratch& get() {
    static Scratch scratch;
    return scratch;
  }
  // Writes `bytes` to <scratch>/<name> (replacing it) and returns its path.
  std::filesystem::path write(const std::string& name, std::string_view bytes) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  void remove(const std::string& name) {
    std::error_code ec;
    std::filesystem::remove(dir_ / name, ec);
  }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/cascade-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
};

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace cascade::fuzz
