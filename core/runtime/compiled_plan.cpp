// Resolves a PipelinePlan into slots, successor lists and fallback maps
// (see compiled_plan.hpp). Runs once per engine.
#include "runtime/compiled_plan.hpp"

#include "isolation/process_stage.hpp"

#include <algorithm>
#include <utility>

namespace cascade::runtime {

namespace {

// The index of the port named `name` in `ports`, or -1.
int32_t port_named(const std::vector<PortInfo>& ports, const std::string& name) {
  int32_t index = -1;
  for (size_t i = 0; i < ports.size(); ++i)
    if (ports[i].name == name) index = static_cast<int32_t>(i);
  return index;
}

}  // namespace

CompiledPlan::CompiledPlan(PipelinePlan p) : plan(std::move(p)) {
  const auto n = static_cast<uint32_t>(plan.stages.size());
  stages.resize(n);
  successors.resize(n);
  predecessor_count.assign(n, 0);
  fallback_inputs.resize(n);
  fallback_outputs.resize(n);
  for (uint32_t s = 0; s < n; ++s) {
    stages[s].slot_base = n_output_slots;  // first output slot of stage s
    n_output_slots += static_cast<uint32_t>(plan.stages[s].plugin->info.outputs.size());
  }
  for (uint32_t s = 0; s < n; ++s) {
    const auto& sp = plan.stages[s];
    if (sp.standby) continue;
    std::vector<uint32_t> preds;
    for (const auto& b : sp.inputs)
      if (b.kind == Binding::Kind::StageOutput && std::find(preds.begin(), preds.end(), b.stage) == preds.end())
        preds.push_back(b.stage);
    predecessor_count[s] = static_cast<uint32_t>(preds.size());
    for (auto pr : preds) successors[pr].push_back(s);
    if (preds.empty()) roots.push_back(s);
    if (sp.on_error == ErrorPolicy::Fallback && sp.fallback >= 0) {
      const auto& primary = sp.plugin->info;
      const auto& fallback = plan.stages[static_cast<size_t>(sp.fallback)].plugin->info;
      for (const auto& in : fallback.inputs) fallback_inputs[s].push_back(port_named(primary.inputs, in.name));
      for (const auto& out : primary.outputs) fallback_outputs[s].push_back(port_named(fallback.outputs, out.name));
    }
  }
  // Branches run in parallel only where some stage feeds two or more.
  for (const auto& v : successors) parallel_branches = parallel_branches || v.size() > 1;
  if (roots.size() > 1) parallel_branches = true;

  for (uint32_t s = 0; s < n; ++s) {
    const auto& sp = plan.stages[s];
    StageRt& stage = stages[s];
    // In process isolation every worker has its own instance: the plugin's
    // max_concurrency holds inside each; only the stage's own cap is left.
    const bool isolated = sp.isolation == Isolation::Process;
    uint32_t cap = isolated ? 0 : sp.plugin->info.max_concurrency;
    if (sp.concurrency != 0 && (cap == 0 || sp.concurrency < cap)) cap = sp.concurrency;
    stage.concurrency = cap;
    stage.process = sp.plugin->descriptor->process;
    stage.n_in = static_cast<uint32_t>(sp.inputs.size());
    stage.n_out = static_cast<uint32_t>(sp.plugin->info.outputs.size());
    stage.inputs = sp.inputs.data();
    for (const auto& port : sp.plugin->info.inputs) stage.optional.push_back(port.optional ? 1 : 0);
    for (const auto& port : sp.plugin->info.outputs) stage.out_types.push_back(port.type);
    max_ports = std::max({max_ports, stage.n_in, stage.n_out});
    if (stage.n_in == 1 && sp.timeout_ms == 0) {
      const Binding& b = sp.inputs[0];
      if (b.kind != Binding::Kind::None) stage.in_slot = static_cast<int32_t>(slot_of(b));
      stage.required0 = stage.optional[0] == 0;
      stage.simple = stage.in_slot >= 0 && cap == 0;
    }
    const cascade_plugin_descriptor* d = sp.plugin->descriptor;
    if (CASCADE_HAS_FIELD(d, cascade_plugin_descriptor, process_batch)) stage.process_batch = d->process_batch;
    if (isolated) {  // the instance is an isolation::ProcessStage (stage_caller.cpp); it takes batches of any plugin
      stage.process = &isolation::ProcessStage::process;
      stage.process_batch = &isolation::ProcessStage::process_batch;
    }
    for (const uint32_t t : stage.out_types) stage.outputs_any = stage.outputs_any && t == CASCADE_PAYLOAD_ANY;
    stage.standby = sp.standby;
    if (sp.standby)
      for (uint32_t i = 0; i < stage.n_out; ++i) standby_slots.push_back(stage.slot_base + i);
    else
      order.push_back(s);
  }
}

void CompiledPlan::attach_instances(const std::vector<void*>& instances) {
  for (size_t s = 0; s < stages.size() && s < instances.size(); ++s) stages[s].instance = instances[s];
}

}  // namespace cascade::runtime
