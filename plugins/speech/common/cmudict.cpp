#include "cmudict.hpp"

#include "audio.hpp"

#include <cctype>
#include <fstream>
#include <set>

namespace cascade::speech {

namespace {
const char* const kDigits[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
}  // namespace

CmuDict CmuDict::load(const std::string& path, const std::set<std::string, std::less<>>* only) {
  std::set<std::string, std::less<>> keep;
  if (only != nullptr) {
    keep = *only;
    for (char c = 'a'; c <= 'z'; ++c) keep.insert(std::string(1, c));
    keep.insert(std::begin(kDigits), std::end(kDigits));
  }
  std::ifstream in(path);
  if (!in) throw SpeechError("A010", "model file not found: " + path);
  CmuDict d;
  std::string line;
  while (std::getline(in, line)) {
    const size_t sp = line.find_first_of(" \t");
    if (sp == std::string::npos || sp == 0) continue;
    std::string_view head(line.data(), sp);
    if (const size_t paren = head.find('('); paren != std::string_view::npos && paren > 0) head = head.substr(0, paren);
    if (only != nullptr && keep.find(head) == keep.end()) continue;
    std::string word(head);
    const size_t ph = line.find_first_not_of(" \t", sp);
    if (ph == std::string::npos) continue;
    std::string pron = line.substr(ph);
    // cmudict-en-us.dict has no comments, but other dictionaries put "#..." after the phones.
    if (const size_t hash = pron.find('#'); hash != std::string::npos) pron.resize(hash);
    while (!pron.empty() && std::isspace(static_cast<unsigned char>(pron.back()))) pron.pop_back();
    if (!pron.empty()) d.entries_[word].push_back(std::move(pron));
  }
  return d;
}

const std::vector<std::string>* CmuDict::find(std::string_view word) const {
  auto it = entries_.find(word);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string CmuDict::spell(std::string_view word) const {
  std::string out;
  for (char c : word) {
    if (c == '\'') continue;
    std::string key;
    if (std::isdigit(static_cast<unsigned char>(c))) key = kDigits[c - '0'];
    else key = std::string(1, static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    const auto* p = find(key);
    if (p == nullptr || p->empty()) return {};
    if (!out.empty()) out += ' ';
    out += p->front();
  }
  return out;
}

std::string CmuDict::trimmed(const std::vector<std::string>& words, std::vector<std::string>* missing,
                             std::vector<std::string>* spelled) const {
  std::set<std::string> uniq(words.begin(), words.end());
  std::string out;
  for (const auto& w : uniq) {
    if (const auto* prons = find(w)) {
      for (size_t i = 0; i < prons->size(); ++i) {
        out += w;
        if (i > 0) out += "(" + std::to_string(i + 1) + ")";
        out += ' ';
        out += (*prons)[i];
        out += '\n';
      }
    } else if (std::string sp = spell(w); !sp.empty()) {
      out += w + ' ' + sp + '\n';
      if (spelled != nullptr) spelled->push_back(w);
    } else if (missing != nullptr) {
      missing->push_back(w);
    }
  }
  return out;
}

std::vector<std::string> tokenize(std::string_view sentence) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : sentence) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '\'' || u >= 0x80) {
      cur += static_cast<char>(std::tolower(u));
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  // A lone or edge apostrophe ("'" or "rock'") is punctuation, not a word part.
  std::vector<std::string> out;
  for (auto& w : words) {
    while (!w.empty() && w.front() == '\'') w.erase(w.begin());
    while (!w.empty() && w.back() == '\'') w.pop_back();
    if (!w.empty()) out.push_back(std::move(w));
  }
  return out;
}

}  // namespace cascade::speech
