// encode.hpp (private) — the record encoders of the trace format
// (traces/FORMAT.md, "Records"), apart from the writer's threads and files.
//
// A Chunk is one records chunk under construction: its bytes, with room for
// the 32-byte chunk header in front (the writer frames the chunk in place
// when it hands it over), and the state the format keeps per chunk: the
// string table, the payload literals, the previous start and turn key, the
// declarations. Every chunk decodes on its own, so all of it starts empty.
//
// Encoding a record is two steps: the caller asks for a bound of its size
// (`*_bound`), makes room for it (`Chunk::room`, or a new chunk), then
// appends it (`put_*`). A stage record is preceded by its stage's
// declaration record the first time the stage appears in the chunk.
//
// Lifecycle: a Chunk is made with a capacity, filled by put_*(), emptied by
// reset() for reuse (the writer recycles its chunks); Declarations are made
// once per Writer::declare() and must not move while chunks refer to them
// (their strings are interned by address).
// Threading: none. A Chunk is used by one thread at a time (the writer gives
// each worker its own); Declarations are only read while encoding.
#pragma once

#include <cascade/trace/event.hpp>
#include <cascade/trace/writer.hpp>

#include "format.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace cascade::trace::encode {

// A stage declared with Writer::declare(), its strings owned.
struct Declaration {
  std::string stage_id, plugin, plugin_version;
  std::vector<std::string> inputs, outputs;
  std::vector<uint32_t> frame_ports;  // StageDecl::frame_ports (writer side only: not in the file)
  size_t bound = 0;                   // most its declaration record takes, header included
  size_t frame_stage_bound = 0;       // most a stage record of a TurnFrame takes, payloads not included
  // How many payloads a frame's table needs for this stage (highest
  // frame port + 1), or kNoPayload: the stage may not be in a frame.
  uint32_t frame_need = kNoPayload;
};
Declaration make_declaration(const StageDecl& d);

class Chunk {
 public:
  explicit Chunk(size_t capacity);
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  // The whole chunk: header space, then the records.
  [[nodiscard]] uint8_t* data() noexcept { return mem_.get(); }
  [[nodiscard]] const uint8_t* data() const noexcept { return mem_.get(); }
  // The records only (the chunk's payload).
  [[nodiscard]] std::span<const uint8_t> payload() const noexcept {
    return {mem_.get() + format::kChunkHeaderSize, used - format::kChunkHeaderSize};
  }
  [[nodiscard]] bool room(size_t bytes) const noexcept { return used + bytes <= cap_; }
  [[nodiscard]] bool empty() const noexcept { return used == format::kChunkHeaderSize; }
  // Makes room for `bytes` more (one record larger than a chunk: rare).
  void grow(size_t bytes);
  void reset();

  size_t used = format::kChunkHeaderSize;  // bytes of data() in use
  uint32_t records = 0;                    // stage and turn records in the chunk (not declarations)
  uint16_t worker = format::kNoWorker;     // whose records these are

 private:
  friend struct Encoder;
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  // A string literal of the chunk's table: where its bytes are, its id.
  struct Interned {
    uint32_t at = 0;
    uint32_t len = kEmpty;  // kEmpty: a free entry
    uint32_t id = 0;
  };
  // A payload literal of the chunk, found by the data's address.
  struct PayloadSeen {
    const void* ptr = nullptr;  // nullptr: a free entry
    uint64_t size = 0;
    uint32_t type = 0;
    uint32_t sample_rate = 0;
    uint32_t at = 0;      // offset of the literal's bytes (inline literals)
    uint32_t id = 0;      // payload literal id within the chunk
    uint32_t record = 0;  // `records` when it was written: the same record => the same bytes
    uint32_t gen = 0;     // `key_gen_` when it was written (payloads_stable)
    bool hashed = false;
  };

  std::unique_ptr<uint8_t[]> mem_;
  size_t cap_ = 0;
  // The turn key of the last record that wrote one: a record of the same
  // turn stores a flag instead. dlg_/usr_ are its strings in the table.
  bool has_key_ = false;
  uint32_t key_index_ = 0;
  uint64_t key_seq_ = 0;
  uint32_t key_gen_ = 0;  // bumped whenever a record writes its turn key
  Interned dlg_, usr_;
  Interned input_port_;  // the last turn record's input port name (usually "input")
  int64_t prev_start_ = 0;
  // The string table (FORMAT.md "istr"), looked up by the string's address
  // first (the engine passes views of long-lived names: a few instructions
  // instead of hashing bytes), then by content (equal strings at other
  // addresses: a dialogue id copied into every turn's input).
  std::array<Interned, 256> by_address_{};
  std::array<Interned, 256> by_content_{};
  uint32_t next_string_ = 0;
  std::array<PayloadSeen, 32> payloads_{};
  uint32_t next_payload_ = 0;
  // Counts put_*() calls: within one call every view is live, so equal
  // address and size are the same bytes (PayloadSeen::record).
  uint32_t serial_ = 0;
  // Per writer declaration id: its handle in this chunk + 1, 0 = not yet.
  std::vector<uint32_t> handles_;
  size_t declared_ = 0;  // writer declarations in this chunk: all of them skips the checks
  uint32_t next_handle_ = 0;
  // Undeclared stages, by their names and port names: their handle here.
  std::unordered_map<std::string, uint32_t> implicit_;
  std::string scratch_;
};

// Bounds of a record's size, header included (a varint of a u32 is counted
// as 5 bytes, of a u64 as 10), its declaration's included.
size_t stage_bound(const StageEvent& e, const Declaration* d, AudioMode mode);
size_t turn_bound(const TurnEvent& e, AudioMode mode);
// A TurnFrame as separate records; `decls` by writer handle. 0: the frame
// cannot be written (frame_error() says why): its input or a stage's port
// outside its payload table, a stage undeclared or without frame_ports.
size_t frame_bound(const TurnFrame& f, std::span<const std::unique_ptr<Declaration>> decls, AudioMode mode);
std::string frame_error(const TurnFrame& f, std::span<const std::unique_ptr<Declaration>> decls);

// Append records to a chunk with room for `bound`, what the matching
// *_bound() returned. `d`: the declaration of e.decl, or nullptr for an
// undeclared event (declared in the chunk by its names and port names);
// `decl_id`: e.decl when `d` is given.
void put_stage(Chunk& c, const StageEvent& e, uint32_t decl_id, const Declaration* d, AudioMode mode, size_t bound);
void put_turn(Chunk& c, const TurnEvent& e, uint32_t worker, AudioMode mode, size_t bound);
// Every stage of `f` as a stage record, then the turn record: what writing
// them one by one would give, with each payload of the table stored once.
void put_frame(Chunk& c, const TurnFrame& f, uint32_t worker, std::span<const std::unique_ptr<Declaration>> decls,
               AudioMode mode, size_t bound);

}  // namespace cascade::trace::encode
