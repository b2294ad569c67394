// json_tape.hpp — a small validating JSON reader for the learned
// isolator's hot path: one pass over a stage's JSON output lays its values
// out flat on a "tape" (one entry per value, in document order, each
// knowing where its subtree ends), then the features look up the few keys
// they need on it.
//
// Why not nlohmann::json: a DOM costs a map node and a std::string per
// member and was a third of analyze() (docs/results.md, Throughput), while
// the features read a handful of keys. The tape keeps no strings of its
// own (a string without escapes is a view into the input), converts a
// number only when it is asked for, and its buffers are kept from one
// document to the next.
//
// It accepts exactly the documents nlohmann::json::parse accepts (RFC 8259
// JSON, a UTF-8 byte order mark before it, strict UTF-8 in strings, no
// number that overflows a double, nothing after the value), and reads
// them as nlohmann's DOM does: a key given twice means its last value, an
// integer converts to double as an int64/uint64 would (so -0 is +0.0).
// readings_test.cpp checks that against nlohmann on real and broken
// documents. Nesting is walked with an explicit stack: no depth limit and
// no recursion for hostile input to exhaust.
//
// Lifecycle: parse() fills it; the Values it hands out are valid until the
// next parse() and while the parsed text lives. Threading: one thread per
// tape (features.cpp keeps one per analyze() thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::learned {

class JsonTape {
 public:
  enum class Kind : uint8_t { Null, False, True, Number, String, Array, Object };

 private:
  // One value: a string's content is input_[begin, begin + size), or
  // decoded_[begin, begin + size) when it had escapes; its JSON text (and
  // a number's) is input_[text_begin, text_begin + text_size).
  struct Entry {
    Kind kind = Kind::Null;
    bool escaped = false;
    uint32_t end = 0;  // the index just past this value's subtree
    uint32_t begin = 0, size = 0;
    uint32_t text_begin = 0, text_size = 0;
  };

 public:

  // A value on the tape. Cheap to copy; valid as the tape's contents are.
  class Value {
   public:
    Kind kind() const { return entry().kind; }
    bool is_null() const { return kind() == Kind::Null; }
    bool is_bool() const { return kind() == Kind::True || kind() == Kind::False; }
    bool is_number() const { return kind() == Kind::Number; }
    bool is_string() const { return kind() == Kind::String; }
    bool is_array() const { return kind() == Kind::Array; }
    bool is_object() const { return kind() == Kind::Object; }

    bool boolean() const { return kind() == Kind::True; }
    // A number as nlohmann's get<double>() gives it; 0 for another kind.
    double number() const;
    // A string, escapes decoded; "" for another kind.
    std::string_view string() const;
    // The value's JSON text as written in the document.
    std::string_view text() const;

    // An object's member `key` (its last one, as nlohmann keeps it), or
    // nullopt (also when this is not an object).
    std::optional<Value> find(std::string_view key) const;
    // An array's elements, in order (empty for another kind).
    std::vector<Value> elements() const;

   private:
    friend class JsonTape;
    Value(const JsonTape* tape, uint32_t index) : tape_(tape), index_(index) {}
    const Entry& entry() const { return tape_->entries_[index_]; }
    const JsonTape* tape_;
    uint32_t index_;
  };

  // Lays `text` out on the tape. False when it is not one valid JSON
  // document: then the tape is empty and root() is nullopt.
  bool parse(std::string_view text);
  std::optional<Value> root() const;

 private:

  class Parser;
  friend class Parser;

  std::string_view input_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> open_;  // containers being filled, innermost last
  std::string decoded_;         // escaped strings, decoded
  bool valid_ = false;
};

}  // namespace cascade::learned
