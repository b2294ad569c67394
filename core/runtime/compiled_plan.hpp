// Internal to the engine: a PipelinePlan resolved once into what running a
// turn needs, flat and by index (slots, successor lists, fallback maps).
//
// A turn's values live in slots (turn_state.hpp): one per stage output
// port, numbered stage by stage, then one for the turn's input. The
// compiled plan says which slot each input port reads and which slots each
// stage writes, so nothing on the hot path looks at names or bindings.
//
// Lifecycle: built by the engine's constructor from its PipelinePlan, before
// any plugin is opened; the stage caller then attaches each stage's opened
// instance (attach_instances). Read-only from the first turn on, and lives
// as long as the engine.
// Threading: after attach_instances() every worker reads it without locks.
#pragma once

#include <cascade/abi/cascade_abi.h>
#include <cascade/core/plan.hpp>

#include <cstdint>
#include <vector>

namespace cascade::runtime {

// What the hot path needs of a stage, flat, without chasing the plan.
struct StageRt {
  cascade_status (*process)(void*, cascade_context*, const cascade_payload*, uint32_t) = nullptr;
  void* instance = nullptr;  // attached once its plugin is opened
  uint32_t n_in = 0, n_out = 0, slot_base = 0;
  const Binding* inputs = nullptr;
  // The fast path of StageCaller::exec(): one input, read from slot
  // in_slot (an upstream output or the turn input); no timeout, no
  // concurrency limit.
  bool simple = false;
  bool required0 = false;  // that one input is required
  // ABI 1.2: the plugin's batch entry (null: process() once a turn), and
  // whether every output port is declared `any` (nothing to check after a
  // batch call).
  cascade_status (*process_batch)(void*, const cascade_batch*) = nullptr;
  bool outputs_any = true;
  bool standby = false;  // a fallback-only stage (runs only for another)
  int32_t in_slot = -1;
  uint32_t concurrency = 0;         // at most this many process() at once; 0: no cap
  std::vector<uint8_t> optional;    // per input port
  std::vector<uint32_t> out_types;  // per output port
};

class CompiledPlan {
 public:
  explicit CompiledPlan(PipelinePlan plan);

  // Every stage's plugin instance, by stage index (the stage caller opens them).
  void attach_instances(const std::vector<void*>& instances);

  // Fills `p` with what an input bound to `b` sees among a turn's slots
  // `vals` (type NONE when unbound). In place: it runs for every input.
  void payload_of(const cascade_payload* vals, const Binding& b, cascade_payload& p) const {
    p.struct_size = sizeof p;
    if (b.kind == Binding::Kind::StageOutput) {
      p = vals[stages[b.stage].slot_base + b.port];
    } else if (b.kind == Binding::Kind::TurnInput) {
      p = vals[input_slot()];
    } else {
      p.type = CASCADE_PAYLOAD_NONE;
      p.data = nullptr;
      p.size = 0;
      p.sample_rate = 0;
    }
  }
  // The slot an input bound to `b` reads, or -1 when unbound.
  [[nodiscard]] int64_t slot_of(const Binding& b) const {
    if (b.kind == Binding::Kind::StageOutput) return stages[b.stage].slot_base + b.port;
    if (b.kind == Binding::Kind::TurnInput) return input_slot();
    return -1;
  }

  [[nodiscard]] uint32_t input_slot() const { return n_output_slots; }
  [[nodiscard]] uint32_t slot_count() const { return n_output_slots + 1; }
  [[nodiscard]] uint32_t stage_count() const { return static_cast<uint32_t>(stages.size()); }

  PipelinePlan plan;
  std::vector<StageRt> stages;  // by stage index
  uint32_t n_output_slots = 0;  // every stage's outputs; the input slot follows
  std::vector<std::vector<uint32_t>> successors;  // stage -> successor stages (non-standby)
  std::vector<uint32_t> predecessor_count;
  std::vector<uint32_t> roots;
  bool parallel_branches = false;  // some stage feeds two or more, or several roots
  // For a stage with a fallback: fallback input i <- the stage's input
  // fallback_inputs[s][i]; the stage's output i <- the fallback's output
  // fallback_outputs[s][i] (-1: none by that name).
  std::vector<std::vector<int32_t>> fallback_inputs, fallback_outputs;
  std::vector<uint32_t> order;          // non-standby stages, topological order
  std::vector<uint32_t> standby_slots;  // output slots of fallback-only stages
  uint32_t max_ports = 1;               // most input or output ports of a stage
};

}  // namespace cascade::runtime
