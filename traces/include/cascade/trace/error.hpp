// cascade/trace/error.hpp — the one exception type of the trace library.
//
// Codes are STABLE (T0xx, the trace family of docs/error-codes.md); tools and
// users match on code(), never on the message. The table is in
// traces/FORMAT.md ("Error codes").
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace cascade::trace {

// Stable codes, as constants so callers never spell them by hand.
namespace codes {
inline constexpr const char* kOpen = "T001";          // cannot open/create/read a path
inline constexpr const char* kWrite = "T002";         // write/flush to disk failed
inline constexpr const char* kNotATrace = "T003";     // bad file magic
inline constexpr const char* kVersion = "T004";       // unsupported format version
inline constexpr const char* kTruncated = "T005";     // damaged (cut off) tail
inline constexpr const char* kChecksum = "T006";      // chunk payload checksum mismatch
inline constexpr const char* kChunkHeader = "T007";   // corrupt chunk header, resynced
inline constexpr const char* kRecord = "T008";        // malformed record in a valid chunk
inline constexpr const char* kMisuse = "T009";        // API misuse (worker index, closed writer, too large)
inline constexpr const char* kUsage = "T010";         // bad tool arguments (--where, --format...)
inline constexpr const char* kFileHeader = "T011";    // damaged file header
inline constexpr const char* kMissingFile = "T012";   // gap or mixed runs in a rotated directory
inline constexpr const char* kTotals = "T013";        // end chunk's totals differ from the file's chunks
}  // namespace codes

// Thrown by Writer, Reader and the tools on failures that stop an operation.
// what() is "error[T0xx]: <path>: <message>".
// Lifecycle/threading: an immutable value; copy it freely across threads
// (the writer rethrows its background thread's error in the caller's).
class TraceError : public std::runtime_error {
 public:
  TraceError(std::string code, const std::filesystem::path& path, const std::string& message)
      : std::runtime_error("error[" + code + "]: " + (path.empty() ? std::string() : path.string() + ": ") +
                           message),
        code_(std::move(code)),
        path_(path) {}
  [[nodiscard]] const std::string& code() const noexcept { return code_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::string code_;
  std::filesystem::path path_;
};

}  // namespace cascade::trace
