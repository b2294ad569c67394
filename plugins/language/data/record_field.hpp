// data/record_field.hpp — where in a record another recogniser's output
// sits: a top-level field name ("asr_text"), or an RFC 6901 JSON pointer
// ("/asr/best/text") for logs that nest it. One "*" segment of a pointer
// stands for every element of the array there ("/recordings/*/asr_text"):
// SLURP keeps several recordings of each request, and a recogniser run
// over them logs one transcript per recording, so such a record becomes
// one turn per element.
//
// Lifecycle: a value, parsed once from the command line. Threading:
// immutable after parse(), safe to share.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace cascade::language::data {

class RecordField {
 public:
  // Throws std::invalid_argument naming the spec for an empty one, a
  // malformed pointer (bad "~" escape) or a pointer with two "*".
  static RecordField parse(const std::string& spec);

  const std::string& spec() const { return spec_; }
  // The array a "*" runs over ("/recordings"), or nullopt without one.
  const std::optional<nlohmann::json::json_pointer>& elements() const { return elements_; }
  // The field in one record; `element` replaces the "*" (ignored without one).
  nlohmann::json::json_pointer at(size_t element = 0) const;
  // How messages name the field: the name as given, or the concrete pointer.
  std::string name(size_t element = 0) const;
  // The value at at(element) in `record`, or nullptr where there is none.
  const nlohmann::json* find(const nlohmann::json& record, size_t element = 0) const;

 private:
  std::string spec_;
  std::optional<nlohmann::json::json_pointer> elements_;
  nlohmann::json::json_pointer head_, tail_;  // around the "*"; head_ alone without one
};

// The value at `at` in `record`, or nullptr where there is none (a path
// through a scalar, past an array's end, or a non-numeric array index).
const nlohmann::json* find_pointer(const nlohmann::json& record, const nlohmann::json::json_pointer& at);

}  // namespace cascade::language::data
