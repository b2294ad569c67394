#include "data/record_field.hpp"

#include <stdexcept>

namespace cascade::language::data {

using json_pointer = nlohmann::json::json_pointer;

namespace {
json_pointer pointer(const std::string& spec, const std::string& text) {
  try {
    return json_pointer(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("field \"" + spec + "\" is not a JSON pointer (RFC 6901): " + e.what());
  }
}
}  // namespace

RecordField RecordField::parse(const std::string& spec) {
  if (spec.empty()) throw std::invalid_argument("a record field may not be empty");
  RecordField f;
  f.spec_ = spec;
  if (spec.front() != '/') {  // a plain name: the whole string is one key, "/" and "~" included
    f.head_ = json_pointer() / spec;
    return f;
  }
  // The segments of "/a/*/b" are "/a", "/*", "/b"; "/*" is the wildcard.
  std::string head, tail;
  int stars = 0;
  for (size_t at = 0; at != std::string::npos;) {
    const size_t next = spec.find('/', at + 1);
    const std::string segment = spec.substr(at, next == std::string::npos ? std::string::npos : next - at);
    if (segment == "/*")
      ++stars;
    else
      (stars == 0 ? head : tail) += segment;
    at = next;
  }
  if (stars > 1) throw std::invalid_argument("field \"" + spec + "\" has more than one \"*\"");
  f.head_ = pointer(spec, head);
  if (stars == 1) {
    f.tail_ = pointer(spec, tail);
    f.elements_ = f.head_;
  }
  return f;
}

json_pointer RecordField::at(size_t element) const {
  if (!elements_) return head_;
  return head_ / element / tail_;
}

std::string RecordField::name(size_t element) const {
  return spec_.front() == '/' ? at(element).to_string() : spec_;
}

const nlohmann::json* RecordField::find(const nlohmann::json& record, size_t element) const {
  return find_pointer(record, at(element));
}

const nlohmann::json* find_pointer(const nlohmann::json& record, const json_pointer& at) {
  // contains() is false for a path through a scalar or past an array's end,
  // and throws for a non-numeric index into an array: both are "absent".
  try {
    return record.contains(at) ? &record.at(at) : nullptr;
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

}  // namespace cascade::language::data
