// cascade/core/diagnostic.hpp — one reported problem with a stable code.
//
// Codes are STABLE: tools and users match on them, never on the message.
// The full table is docs/error-codes.md. Families:
//   L0xx plugin loading   C0xx pipeline config   R0xx run time
//   T0xx trace files      A0xx audio/data input
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cascade {

struct Diagnostic {
  std::string code;     // e.g. "L003"
  std::string message;  // one line, human readable
  std::string file;     // empty when there is no file
  uint32_t line = 0;    // 1-based; 0 when unknown
  uint32_t column = 0;  // 1-based; 0 when unknown

  // "file:line:col: error[CODE]: message" (parts that are unknown left out).
  [[nodiscard]] std::string format() const;
};

// An error carrying one diagnostic, for failures that stop an operation.
class CascadeError : public std::runtime_error {
 public:
  explicit CascadeError(Diagnostic d) : std::runtime_error(d.format()), diag_(std::move(d)) {}
  CascadeError(std::string code, std::string message, std::string file = {})
      : CascadeError(Diagnostic{std::move(code), std::move(message), std::move(file), 0, 0}) {}
  [[nodiscard]] const Diagnostic& diagnostic() const noexcept { return diag_; }
  [[nodiscard]] const std::string& code() const noexcept { return diag_.code; }

 private:
  Diagnostic diag_;
};

}  // namespace cascade
