// data/recorded_turns.hpp — turns that carry another recogniser's recorded
// hypothesis, built from any SLURP-format JSONL whose records name that
// recogniser's transcript in a field of their own (`--asr-field`).
//
// Each record becomes one addressed turn in the eval-dialogue layout
// (README.md), in file order, whose payload is the hypothesis
//   {"json": {"text": <asr field>, "confidence": <number>?, "nbest": [{"text","score"}]?}}
// for pipelines/assistant-recorded-asr.toml (`input.json`), and whose gold
// is gold_turn() of the record against the shipped catalogue: exactly what
// an eval-dialogue turn of the same record carries.
//
// Where the transcript's field has a "*", each element (recording) e of a
// record makes a turn (its "asr_field" names the element's pointer), all
// at the record's place in the layout: element 0 in dialogue `<id>`,
// element e in dialogue `<id>#e`, which holds element e of the same
// records as `<id>`. Why: a split by dialogue hashes the id up to its
// '#' (core's split_key()), so every recording of a request falls on the
// same side and none is trained on while another is scored. The turns
// are written dialogue by dialogue (`<id>`, `<id>#1`, ...).
//
// Bad records never pass silently: each is reported as
// "<file>:<line>: error[CODE]: ..." and skipped (A012: not JSON or not a
// SLURP record; A014: the hypothesis fields are missing or malformed).
//
// Lifecycle: build_recorded_turns() is a plain function of its inputs,
// deterministic. Threading: no shared state.
#pragma once

#include "data/assistant_data.hpp"
#include "data/record_field.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cascade::language::data {

// Record fields the hypothesis comes from, as given on the command line
// (a name or a JSON pointer, record_field.hpp); empty = not recorded.
struct AsrFields {
  std::string text;        // required: the 1-best, a string
  std::string confidence;  // a number in [0, 1]; absent or null in a record = unknown
  std::string nbest;       // [{"text": string, "score": number}, ...]; absent or null = unknown
};

// AsrFields, parsed. A "*" in the confidence or n-best field must run over
// the same array as the transcript's (each element's own), or be absent
// (one value for every element of the record).
struct ParsedAsrFields {
  RecordField text;
  std::optional<RecordField> confidence, nbest;
};
// Throws std::invalid_argument saying which option is wrong.
ParsedAsrFields parse_asr_fields(const AsrFields& fields);

struct RecordedTurns {
  std::vector<nlohmann::json> turns;  // one per good record, file order
  std::vector<std::string> problems;  // one per skipped record, "<file>:<line>: error[CODE]: ..."
  size_t records = 0;                 // non-blank lines read (a "*" field makes several turns of one)
  size_t with_confidence = 0, with_nbest = 0;
  size_t train_side = 0;              // good records whose slurp_id is TRAIN in THE SPLIT
};

// Throws std::runtime_error "error[A010]: input file not found: <path>"
// when `path` cannot be opened, std::invalid_argument as parse_asr_fields();
// every other problem is per record (or per element of a "*" field).
RecordedTurns build_recorded_turns(const std::string& path, const AsrFields& fields, const Catalog& catalog,
                                   const Options& opt);

// The hypothesis of one record (the payload's "json"), of its element
// `element` where the fields hold a "*", or throws std::invalid_argument
// saying which field is missing or malformed.
nlohmann::json recorded_hypothesis(const nlohmann::json& record, const ParsedAsrFields& fields, size_t element = 0);

}  // namespace cascade::language::data
