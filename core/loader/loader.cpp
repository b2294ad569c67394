// The plugin loader. Boost.DLL stays in this file: its headers are slow to
// compile and nothing else needs them.
#include <cascade/core/loader.hpp>
#include <cascade/abi/cascade_analyzer.h>

#include <boost/dll/shared_library.hpp>

#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <string_view>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace cascade {
namespace {

std::string ver(unsigned major, unsigned minor) { return std::to_string(major) + "." + std::to_string(minor); }
const std::string kHostAbi = ver(CASCADE_ABI_MAJOR, CASCADE_ABI_MINOR);
// Every ABI major's entry point is this followed by the major number.
constexpr std::string_view kEntryPrefix = "cascade_plugin_entry_v";

[[noreturn]] void refuse(const char* code, const fs::path& file, const std::string& why) {
  throw CascadeError(code, "cannot load plugin: " + why, file.string());
}

// Libraries are never unloaded: objects created by plugin code (vtables,
// type_info, exceptions, std::function targets) may outlive any point at
// which unloading would be safe. Held here, intentionally leaked.
void keep_loaded(boost::dll::shared_library lib) {
  static std::mutex m;
  static auto* libs = new std::vector<boost::dll::shared_library>();
  std::lock_guard lock(m);
  libs->push_back(std::move(lib));
}

// Step 1: refuse what is not an ELF shared object before any library code
// gets involved. Reads the 64-byte ELF header only.
void check_elf(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) refuse("L001", file, "file not found");
  if (!fs::is_regular_file(file, ec)) refuse("L001", file, "not a regular file");
  std::ifstream in(file, std::ios::binary);
  unsigned char h[64] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  const auto got = in.gcount();
  if (got < 4 || std::memcmp(h, "\x7f" "ELF", 4) != 0)
    refuse("L002", file, "not a shared library (no ELF header)");
  if (got < 20) refuse("L002", file, "truncated ELF file (" + std::to_string(got) + " bytes)");
  const unsigned e_type = h[5] == 1 ? (h[16] | (h[17] << 8)) : ((h[16] << 8) | h[17]);
  if (e_type != 3 /* ET_DYN */) refuse("L002", file, "ELF file is not a shared object (e_type " + std::to_string(e_type) + ")");
  const auto size = fs::file_size(file, ec);
  // The section header table lies at the end; a cut file loses it.
  const bool is64 = h[4] == 2;
  uint64_t shoff = 0;
  if (is64 && got >= 48) {
    for (int i = 7; i >= 0; --i) shoff = (shoff << 8) | h[40 + i];
  }
  if (shoff != 0 && shoff >= size)
    refuse("L002", file, "truncated ELF file: section headers at offset " + std::to_string(shoff) +
                             " but the file has " + std::to_string(size) + " bytes");
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Step 1b: refuse a file another user could have replaced. The file, and
// every directory from it up to /, must not be writable by others: whoever
// can write there decides what code this process runs. A world-writable
// directory with the sticky bit (/tmp) is accepted: others may add
// entries there but not replace or rename ours. Group write is allowed
// (shared team directories). Checked for the path as given and as
// resolved, so a symlink in a world-writable directory is refused too.
// This narrows the window, it does not close it: dlopen() opens the path
// again after the check.
void check_not_world_writable(const fs::path& file) {
  for (fs::path p = file;; p = p.parent_path()) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0 && !S_ISLNK(st.st_mode) && (st.st_mode & S_IWOTH) != 0) {
      const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
      if (!sticky_dir) {
        const std::string what = p == file ? "the file" : "the directory " + p.string();
        refuse("L013", file, what + " is writable by every user (mode " + octal_mode(st.st_mode) +
                                 "): anyone could replace the plugin (fix: chmod o-w " + p.string() + ")");
      }
    }
    if (p.empty() || p == p.parent_path()) break;
  }
}

// Step 2: which cascade entry symbols does the file export? Reads the
// DYNAMIC symbol table (what dlsym() searches) without running any code of
// the file. Not boost::dll::library_info: Boost 1.74's reads `.symtab`
// with whichever string table comes last (usually `.shstrtab`), so it finds
// nothing in a stripped plugin, as every distribution package is, and
// garbage when the sections are laid out differently (seen with
// -fsanitize=thread builds).
std::vector<std::string> entry_symbols(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  // Reads `n` bytes at `off`, refusing anything outside the file.
  // Sizes come from the file: each is checked against the file's size
  // before anything is allocated for it (a corrupt header claiming 2^60
  // bytes is refused, not allocated).
  auto check_within = [&](uint64_t off, uint64_t n, const char* what) {
    if (off > size || n > size - off)
      refuse("L002", file, std::string("truncated or corrupt ELF file: ") + what + " lies outside the file");
  };
  auto read_at = [&](uint64_t off, void* dst, uint64_t n, const char* what) {
    check_within(off, n, what);
    in.seekg(static_cast<std::streamoff>(off));
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (!in) refuse("L002", file, std::string("cannot read ") + what);
  };
  Elf64_Ehdr eh;
  read_at(0, &eh, sizeof eh, "the ELF header");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    refuse("L002", file, "not a 64-bit little-endian ELF file: this host cannot load it");
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0)
    refuse("L002", file, "ELF file without usable section headers");
  check_within(eh.e_shoff, uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr), "the section headers");
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  read_at(eh.e_shoff, sections.data(), uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr), "the section headers");
  std::vector<std::string> found;
  static const std::regex re(std::string(kEntryPrefix) + "([0-9]+)");
  for (const Elf64_Shdr& sh : sections) {
    if (sh.sh_type != SHT_DYNSYM) continue;
    if (sh.sh_link >= sections.size() || sh.sh_entsize != sizeof(Elf64_Sym))
      refuse("L002", file, "corrupt dynamic symbol table");
    const Elf64_Shdr& strtab = sections[sh.sh_link];
    check_within(sh.sh_offset, sh.sh_size, "the dynamic symbol table");
    check_within(strtab.sh_offset, strtab.sh_size, "the dynamic string table");
    std::vector<Elf64_Sym> syms(sh.sh_size / sizeof(Elf64_Sym));
    read_at(sh.sh_offset, syms.data(), syms.size() * sizeof(Elf64_Sym), "the dynamic symbol table");
    std::string names(strtab.sh_size, '\0');
    read_at(strtab.sh_offset, names.data(), names.size(), "the dynamic string table");
    for (const Elf64_Sym& sym : syms) {
      // Defined here, global or weak, visible: what dlsym() can return.
      const unsigned bind = ELF64_ST_BIND(sym.st_info), vis = ELF64_ST_VISIBILITY(sym.st_other);
      if (sym.st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK) ||
          (vis != STV_DEFAULT && vis != STV_PROTECTED) || sym.st_name >= names.size())
        continue;
      const char* name = names.c_str() + sym.st_name;  // NUL-terminated: names ends with one
      if (std::string_view(name).starts_with(kEntryPrefix) && std::regex_match(name, re)) found.emplace_back(name);
    }
  }
  return found;
}

bool valid_name(const char* s, bool allow_dot_dash) {
  if (s == nullptr || *s == '\0') return false;
  for (const char* p = s; *p; ++p) {
    const char c = *p;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    (allow_dot_dash && (c == '.' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

bool valid_payload_type(uint32_t t) {
  return t == CASCADE_PAYLOAD_TEXT || t == CASCADE_PAYLOAD_AUDIO || t == CASCADE_PAYLOAD_JSON ||
         t == CASCADE_PAYLOAD_ANY;
}

bool default_parses(uint32_t type, const std::string& v) {
  switch (type) {
    case CASCADE_PARAM_BOOL: return v == "true" || v == "false";
    case CASCADE_PARAM_INT: return std::regex_match(v, std::regex("[-+]?[0-9]+"));
    case CASCADE_PARAM_DOUBLE: {
      char* end = nullptr;
      std::strtod(v.c_str(), &end);
      return !v.empty() && end == v.c_str() + v.size();
    }
    case CASCADE_PARAM_STRING: return true;
    default: return false;
  }
}

// Arrays of ABI structs are strided by the size their first element
// declares, so an older (smaller) layout still reads correctly.
template <class T>
const T* element(const T* base, uint32_t stride, uint32_t i) {
  return reinterpret_cast<const T*>(reinterpret_cast<const char*>(base) + static_cast<size_t>(stride) * i);
}

std::vector<PortInfo> read_ports(const fs::path& file, const cascade_port* ports, uint32_t n, const char* side) {
  std::vector<PortInfo> out;
  if (n == 0) return out;
  if (ports == nullptr) refuse("L010", file, std::string("descriptor declares ") + std::to_string(n) + " " + side + " but no array");
  const uint32_t stride = ports[0].struct_size;
  const size_t min = offsetof(cascade_port, payload_type) + sizeof(uint32_t);
  if (stride < min)
    refuse("L010", file, std::string(side) + " port struct_size " + std::to_string(stride) + " is smaller than the minimum " + std::to_string(min));
  for (uint32_t i = 0; i < n; ++i) {
    const cascade_port* p = element(ports, stride, i);
    PortInfo pi;
    if (!valid_name(p->name, false)) refuse("L010", file, std::string(side) + " port #" + std::to_string(i) + " has an invalid name");
    pi.name = p->name;
    if (!valid_payload_type(p->payload_type))
      refuse("L010", file, std::string(side) + " port '" + pi.name + "' has an invalid payload type " + std::to_string(p->payload_type));
    pi.type = p->payload_type;
    if (CASCADE_HAS_FIELD(p, cascade_port, flags)) pi.optional = (p->flags & CASCADE_PORT_OPTIONAL) != 0;
    if (CASCADE_HAS_FIELD(p, cascade_port, doc) && p->doc != nullptr) pi.doc = p->doc;
    for (const auto& q : out)
      if (q.name == pi.name) refuse("L010", file, std::string("duplicate ") + side + " port '" + pi.name + "'");
    out.push_back(std::move(pi));
  }
  return out;
}

std::vector<ParamInfo> read_params(const fs::path& file, const cascade_param* params, uint32_t n) {
  std::vector<ParamInfo> out;
  if (n == 0) return out;
  if (params == nullptr) refuse("L010", file, "descriptor declares parameters but no array");
  const uint32_t stride = params[0].struct_size;
  const size_t min = offsetof(cascade_param, default_value) + sizeof(const char*);
  if (stride < min)
    refuse("L010", file, "parameter struct_size " + std::to_string(stride) + " is smaller than the minimum " + std::to_string(min));
  for (uint32_t i = 0; i < n; ++i) {
    const cascade_param* p = element(params, stride, i);
    if (!valid_name(p->name, false)) refuse("L010", file, "parameter #" + std::to_string(i) + " has an invalid name");
    ParamInfo pi;
    pi.name = p->name;
    pi.type = p->type;
    if (p->type < CASCADE_PARAM_BOOL || p->type > CASCADE_PARAM_STRING)
      refuse("L010", file, "parameter '" + pi.name + "' has an invalid type " + std::to_string(p->type));
    if (p->default_value == nullptr) refuse("L010", file, "parameter '" + pi.name + "' has no default value");
    pi.default_value = p->default_value;
    if (!default_parses(p->type, pi.default_value))
      refuse("L010", file, "parameter '" + pi.name + "' default '" + pi.default_value + "' is not a valid " +
                               std::string(param_type_name(p->type)));
    if (CASCADE_HAS_FIELD(p, cascade_param, doc) && p->doc != nullptr) pi.doc = p->doc;
    for (const auto& q : out)
      if (q.name == pi.name) refuse("L010", file, "duplicate parameter '" + pi.name + "'");
    out.push_back(std::move(pi));
  }
  return out;
}

// Step 4 for an analyzer (ABI 1.3): its analyze() and the labels it gives.
void read_analyzer(const fs::path& file, const cascade_plugin_descriptor* d, PluginInfo& info) {
  const std::string who = "analyzer '" + info.name + "'";
  // NOLINTNEXTLINE(bugprone-sizeof-expression): the field is a pointer; its size is what the check needs
  if (!CASCADE_HAS_FIELD(d, cascade_plugin_descriptor, analyzer) || d->analyzer == nullptr)
    refuse("L010", file, who + " has no analyzer table (ABI 1.3 descriptor->analyzer)");
  const cascade_analyzer_api* a = d->analyzer;
  if (a->struct_size < offsetof(cascade_analyzer_api, analyze) + sizeof(a->analyze) || a->analyze == nullptr)
    refuse("L010", file, who + " lacks analyze()");
  if (a->n_labels > 64 || (a->n_labels > 0 && a->labels == nullptr))
    refuse("L010", file, who + " declares " + std::to_string(a->n_labels) + " labels without a valid array");
  for (uint32_t i = 0; i < a->n_labels; ++i) {
    if (!valid_name(a->labels[i], false)) refuse("L010", file, who + " has an invalid label #" + std::to_string(i));
    info.labels.emplace_back(a->labels[i]);
  }
  info.analyzer_flags = a->flags;
}

// Step 4: trust nothing in the descriptor until its size and versions pass.
PluginInfo read_descriptor(const fs::path& file, const cascade_plugin_descriptor* d) {
  if (d == nullptr) refuse("L006", file, CASCADE_ENTRY_SYMBOL "() returned no descriptor");
  constexpr size_t min = offsetof(cascade_plugin_descriptor, destroy) + sizeof(d->destroy);
  if (d->struct_size < offsetof(cascade_plugin_descriptor, abi_minor) + sizeof(uint16_t))
    refuse("L007", file, "descriptor struct_size " + std::to_string(d->struct_size) + " is too small to hold a version (ABI " +
                             kHostAbi + " needs at least " + std::to_string(min) + ")");
  const std::string found = ver(d->abi_major, d->abi_minor);
  if (d->abi_major != CASCADE_ABI_MAJOR)
    refuse("L008", file, "descriptor says ABI " + found + " but the host speaks ABI " + kHostAbi + " (major must be equal)");
  if (d->abi_minor > CASCADE_ABI_MINOR)
    refuse("L009", file, "plugin built against SDK ABI " + found + ", newer than the host's ABI " + kHostAbi +
                             " (minor must be <= the host's): upgrade cascade");
  if (d->struct_size < min)
    refuse("L007", file, "descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than ABI " + found +
                             " requires (" + std::to_string(min) + ")");
  PluginInfo info;
  if (!valid_name(d->name, true)) refuse("L010", file, "descriptor has no valid name ([a-z0-9_.-]+)");
  info.name = d->name;
  if (d->version == nullptr || *d->version == '\0') refuse("L010", file, "plugin '" + info.name + "' has no version");
  if (d->license == nullptr || *d->license == '\0') refuse("L010", file, "plugin '" + info.name + "' has no licence");
  if (d->kind < CASCADE_KIND_STAGE || d->kind > CASCADE_KIND_REWRITER)
    refuse("L010", file, "plugin '" + info.name + "' has an invalid kind " + std::to_string(d->kind));
  if (d->create == nullptr || d->destroy == nullptr)
    refuse("L010", file, "plugin '" + info.name + "' lacks a required function (create, destroy)");
  if (d->kind == CASCADE_KIND_ANALYZER) {
    read_analyzer(file, d, info);
  } else if (d->process == nullptr) {
    refuse("L010", file, "plugin '" + info.name + "' lacks a required function (process)");
  }
  info.version = d->version;
  info.license = d->license;
  info.description = d->description != nullptr ? d->description : "";
  info.kind = d->kind;
  info.flags = d->flags;
  info.max_concurrency = d->max_concurrency;
  info.abi_major = d->abi_major;
  info.abi_minor = d->abi_minor;
  info.batch = CASCADE_HAS_FIELD(d, cascade_plugin_descriptor, process_batch) && d->process_batch != nullptr;
  info.path = file;
  info.inputs = read_ports(file, d->inputs, d->n_inputs, "input");
  info.outputs = read_ports(file, d->outputs, d->n_outputs, "output");
  info.params = read_params(file, d->params, d->n_params);
  return info;
}

}  // namespace

struct PluginRegistry::Impl {
  std::vector<std::unique_ptr<LoadedPlugin>> plugins;  // stable addresses
  std::map<std::string, LoadedPlugin*, std::less<>> by_name;
  std::map<fs::path, LoadedPlugin*> by_path;
  std::vector<fs::path> searched;
};

PluginRegistry::PluginRegistry() : impl_(std::make_unique<Impl>()) {}
PluginRegistry::~PluginRegistry() = default;

fs::path PluginRegistry::builtin_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (exe.parent_path() / ".." / "lib" / "cascade" / "plugins").lexically_normal();
}

std::vector<fs::path> PluginRegistry::search_path(const std::vector<fs::path>& configured) {
  std::vector<fs::path> out(configured.begin(), configured.end());
  if (const char* env = std::getenv("CASCADE_PLUGIN_PATH"); env != nullptr) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) out.emplace_back(item);
  }
  if (auto b = builtin_dir(); !b.empty()) out.push_back(b);
  return out;
}

const LoadedPlugin& PluginRegistry::load(const fs::path& file_in) {
  std::error_code ec;
  const fs::path given = fs::absolute(file_in, ec).lexically_normal();
  fs::path file = fs::weakly_canonical(fs::absolute(file_in), ec);
  if (ec) file = file_in;
  if (auto it = impl_->by_path.find(file); it != impl_->by_path.end()) return *it->second;

  check_elf(file);
  check_not_world_writable(given);
  if (file != given) check_not_world_writable(file);
  const auto entries = entry_symbols(file);
  if (std::find(entries.begin(), entries.end(), CASCADE_ENTRY_SYMBOL) == entries.end()) {
    if (!entries.empty()) {
      const std::string other = entries.front().substr(kEntryPrefix.size());
      refuse("L003", file, "plugin built for ABI major " + other + " (exports " + entries.front() +
                               "), the host speaks ABI " + kHostAbi + " and looks for " CASCADE_ENTRY_SYMBOL);
    }
    refuse("L004", file, "no entry point: the file does not export " CASCADE_ENTRY_SYMBOL
                         " (is it a Cascade plugin? built with CASCADE_PLUGIN(...)?)");
  }

  boost::dll::shared_library lib;
  try {
    lib.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    // Boost.DLL appends dlerror()'s text: the unresolved symbol or the
    // missing dependency is named there.
    refuse("L005", file, std::string("the dynamic linker refused it: ") + e.what());
  }
  auto entry = lib.get<const cascade_plugin_descriptor*()>(CASCADE_ENTRY_SYMBOL);
  const cascade_plugin_descriptor* d = entry();
  keep_loaded(std::move(lib));
  PluginInfo info = read_descriptor(file, d);

  if (auto it = impl_->by_name.find(info.name); it != impl_->by_name.end())
    refuse("L011", file, "duplicate plugin name '" + info.name + "': already loaded from " + it->second->info.path.string());

  auto lp = std::make_unique<LoadedPlugin>();
  lp->info = std::move(info);
  lp->descriptor = d;
  LoadedPlugin* raw = lp.get();
  impl_->plugins.push_back(std::move(lp));
  impl_->by_name.emplace(raw->info.name, raw);
  impl_->by_path.emplace(file, raw);
  return *raw;
}

std::vector<Diagnostic> PluginRegistry::scan(const std::vector<fs::path>& dirs) {
  std::vector<Diagnostic> refused;
  for (const auto& dir : dirs) {
    impl_->searched.push_back(dir);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".so") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        load(f);
      } catch (const CascadeError& e) {
        // A library that is not a Cascade plugin at all is not an error
        // when scanning a directory; everything else is reported.
        if (e.code() == "L004") continue;
        refused.push_back(e.diagnostic());
      }
    }
  }
  return refused;
}

const LoadedPlugin* PluginRegistry::find(std::string_view name) const {
  auto it = impl_->by_name.find(name);
  return it == impl_->by_name.end() ? nullptr : it->second;
}
std::vector<fs::path> PluginRegistry::searched() const { return impl_->searched; }
std::vector<const LoadedPlugin*> PluginRegistry::all() const {
  std::vector<const LoadedPlugin*> v;
  for (const auto& p : impl_->plugins) v.push_back(p.get());
  return v;
}

}  // namespace cascade
