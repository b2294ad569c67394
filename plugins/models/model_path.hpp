// model_path.hpp — where the reference plugins find the models Cascade
// ships (the ASR language model and adapted acoustic model, the intent
// classifier, the slot lexicon, the entity catalogue).
//
// A model parameter whose value starts with "@models/" names a file in the
// shipped models directory; any other value is a path used as given. The
// directory is looked up at open() time, in this order:
//   1. installed: <directory of the plugin's .so>/<relative path to
//      <datadir>/cascade/models>, as `cmake --install` lays it out (so an
//      installed, even relocated, prefix uses its own models);
//   2. the build tree: the models the build generated
//      (CASCADE_ASSISTANT_DATA_DIR), for plugins run from where they were
//      built.
// The first directory that holds the file wins; when neither does, the
// installed candidate is returned, so the plugin's "model file not found"
// error names where an installation should have put it.
//
// Thread-safe (no state). Linked statically into each plugin that uses it:
// the ".so it lives in" is then that plugin.
#pragma once

#include <string>
#include <string_view>

namespace cascade::plugins {

inline constexpr std::string_view kModelsPrefix = "@models/";

// The rule above with its inputs explicit (tested without installing):
// `plugin_dir` the plugin's directory, `installed_rel` the path from it to
// the installed models directory, `build_dir` the build tree's.
std::string resolve_model_path(std::string_view value, const std::string& plugin_dir,
                               std::string_view installed_rel, std::string_view build_dir);

// The rule for the plugin this is linked into.
std::string resolve_model_path(std::string_view value);

}  // namespace cascade::plugins
