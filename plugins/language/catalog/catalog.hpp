// catalog/catalog.hpp — entity catalogues and their resolution.
//
// A Catalog holds, per entity type ("house_place", "artist_name", ...), the
// canonical values seen in the TRAIN annotations and the surface variants
// that led to each. ER resolves a slot (type, value) against it:
//   - date / time: the temporal normaliser decides (catalog/temporal.hpp);
//   - other types: canonicalize() (possessives, articles, a small alias
//     table: "bed room" -> "bedroom", "roomba" -> "vacuum"), then an exact
//     look-up, then the best fuzzy match (text/text.hpp similarity()) among
//     the type's canonicals and variants; below `threshold` the entity is
//     unresolved and reported with the best score seen.
// The same code resolves the gold annotations in the data tool, so a
// correct NLU output resolves to exactly the gold entities.
//
// Lifecycle: build with add() (data tool) or load()/from_json() (ER
// plugin), then only read. Threading: const methods are safe from any
// number of threads; add() must not overlap anything.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::language {

// One "[type : value]" of a SLURP sentence_annotation, with the value
// normalised (normalize_sentence) and its token span in the normalised
// plain sentence.
struct Annotation {
  std::string type;
  std::string value;
  size_t token_begin = 0;
  size_t token_end = 0;  // one past the last token
};
// Parses a sentence_annotation. Throws std::invalid_argument on an
// unbalanced bracket or a missing " : ".
std::vector<Annotation> parse_annotation(std::string_view sentence_annotation);

// Canonical form of a value of `type`: normalised, possessive "'s" and
// leading articles/"my" dropped, aliases applied. Pure.
std::string canonicalize(std::string_view type, std::string_view value);

// True for the types resolved by the temporal normaliser.
bool is_temporal(std::string_view type);

struct Resolution {
  std::optional<std::string> resolved;  // canonical, or nullopt
  double score = 0.0;                   // 1.0 exact; fuzzy similarity otherwise
};

class Catalog {
 public:
  struct Entry {
    int count = 0;
    std::vector<std::string> variants;  // sorted, unique surface forms
  };
  using TypeTable = std::map<std::string, Entry>;  // canonical -> entry

  // Records one annotated value (data tool). Temporal types keep their
  // normalised value as canonical (or are skipped when it does not parse).
  void add(std::string_view type, std::string_view value);

  [[nodiscard]] Resolution resolve(std::string_view type, std::string_view value, double threshold = 0.75) const;

  [[nodiscard]] const std::map<std::string, TypeTable>& types() const { return types_; }
  [[nodiscard]] nlohmann::json to_json() const;
  // Throws std::invalid_argument naming what is wrong.
  static Catalog from_json(const nlohmann::json& j);
  // Throws std::runtime_error("A010: catalog file not found: <path>") or
  // std::invalid_argument("A012: <path>: ...") on bad content.
  static Catalog load(const std::string& path);

 private:
  std::map<std::string, TypeTable> types_;
};

}  // namespace cascade::language
