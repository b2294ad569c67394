// decode.hpp (private) — the record decoders of the trace format
// (traces/FORMAT.md, "Records"), apart from the reader's files, mappings
// and damage scanning: bytes of one records chunk in, records out.
//
// Lifecycle/threading: a pure function; no state outlives a call.
#pragma once

#include <cascade/trace/reader.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>

namespace cascade::trace::decode {

// Why a chunk's records stopped decoding: where the bad record starts in
// the chunk payload, and what is wrong with it.
struct Failure {
  size_t offset = 0;
  const char* what = "";
};

// Decodes the records of one records chunk payload, appending them to `out`
// in file order (declarations yield none). On a malformed record returns
// its failure; the records before it are in `out`, the rest of the chunk is
// not read (FORMAT.md: the chunk's state is lost past a bad record).
std::optional<Failure> chunk(std::span<const uint8_t> payload, std::deque<Record>& out);

}  // namespace cascade::trace::decode
