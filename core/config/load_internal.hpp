// load_internal.hpp — what the files of load_config share (load.cpp,
// load_stages.cpp, load_overrides.cpp, load_toml.cpp); private to
// core/config.
//
// Lifecycle: one Loader per load_config() call, on the caller's stack; it
// fills the LoadResult it was given and is dropped. Threading: none of it
// is shared; concurrent load_config() calls each have their own Loader.
// toml++ stays behind this header: the public config.hpp has none of it.
#pragma once

#include <cascade/core/config.hpp>

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::config::detail {

namespace fs = std::filesystem;

// The keys each part of a pipeline file accepts (load.cpp; the stage keys
// in load_stages.cpp, beside the code that applies them).
extern const std::vector<std::string> kTopKeys;
extern const std::vector<std::string> kStageKeys;
extern const std::vector<std::string> kProcessKeys;
// The keys of [pipeline], [plugins], [run], [trace] or [output]; null for
// any other name.
const std::vector<std::string>* section_keys(std::string_view section);

// ------------------------------------------- toml++ and text (load_toml.cpp)

bool contains(const std::vector<std::string>& v, std::string_view s);
SourcePos pos_of(const toml::source_region& r);
// "a string", "an integer", ... for messages.
std::string type_name(const toml::node& n);
// a-z, 0-9 and _ only, not empty.
bool valid_id(std::string_view s);
// "stage.port" -> (stage, port); nullopt unless exactly one '.' splits two
// non-empty parts. With allow_bare, "stage" alone gives (stage, "").
std::optional<std::pair<std::string, std::string>> split_ref(std::string_view s, bool allow_bare);
// The shortest text that reads back as the same double.
std::string double_text(double d);
// A table's entries in the order they were written (toml::table iterates
// by key order, but diagnostics should follow the file).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t);
// The body of a TOML basic string holding s.
std::string toml_escape(std::string_view s);

struct Document {
  fs::path path;
  toml::table root;
};

// Applies the files of an `extends` chain and the overrides onto one
// PipelineConfig, checking each key as it goes (load.cpp says the order).
class Loader {
 public:
  explicit Loader(LoadResult& r) : r_(r), cfg_(r.config) {}

  void run(const fs::path& file, const std::vector<std::string>& overrides);

 private:
  void error(std::string code, std::string message, const SourcePos& p);

  // reading (load.cpp)
  std::optional<toml::table> read_file(const fs::path& path, const SourcePos& referenced_at, bool is_extends);
  // The main file, then each file it (transitively) extends.
  std::vector<Document> read_chain(const fs::path& file);

  // typed readers: the value, or a C004/C005 error and nullopt (load.cpp)
  std::optional<std::string> str(const toml::node& n, const std::string& what);
  std::optional<bool> boolean(const toml::node& n, const std::string& what);
  std::optional<uint32_t> u32(const toml::node& n, const std::string& what, int64_t min = 0);

  // applying the top level and its sections (load.cpp)
  void apply_document(const toml::table& root, size_t file_index);
  // False when `key` is not a key of `section`.
  bool apply_section_key(std::string_view section, std::string_view key, const toml::node& v);

  // applying a [[stages]] table (load_stages.cpp)
  void apply_stage_table(const toml::table& t, size_t file_index);
  // False when `key` is not a stage setting.
  bool apply_stage_key(StageConfig& s, const std::string& label, std::string_view key, const toml::node& v);
  // False when `key` is not a key of [stages.process].
  bool apply_process_key(StageConfig& s, const std::string& label, std::string_view key, const toml::node& v);
  void apply_input(StageConfig& s, const std::string& label, const std::string& port, const SourcePos& key_pos,
                   const toml::node& v);
  void apply_param(StageConfig& s, const std::string& label, const std::string& name, const SourcePos& key_pos,
                   const toml::node& v);

  // --set overrides (load_overrides.cpp)
  void apply_override(const std::string& arg);
  // The value as a one-key TOML document whose value starts at the same
  // column as in the argument, so node positions point into the argument.
  static toml::table parse_override_value(const std::string& arg, size_t eq);

  // finishing: required keys, fallback links, the default result (load.cpp)
  void finalize();
  void link_fallbacks();
  // Without [output]: the last non-standby stage in topological order.
  void default_output();

  LoadResult& r_;
  PipelineConfig& cfg_;
  std::string main_file_;
  std::vector<size_t> owner_file_;  // per stage: index (apply order) of the file that last defined it
  size_t stage_tables_ = 0;
  bool stages_key_seen_ = false;
  bool name_set_ = false;
  bool version_set_ = false;
  SourcePos pipeline_pos_;
};

}  // namespace cascade::config::detail
