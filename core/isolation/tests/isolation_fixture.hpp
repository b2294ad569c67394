// Test support for process isolation's tests: a pipeline with one
// fixture_faulty stage in worker processes behind normalize, turns of text
// of which some carry the word that makes the fixture misbehave, and the
// check that only those turns were lost.
//
// Lifecycle and threading: plain functions (see pipeline_fixture.hpp for
// the fixture they return). Needs FIXTURE_PLUGIN_DIR and BUILTIN_PLUGIN_DIR.
#pragma once

#include "pipeline_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cascade::test_support::isolation {

using trace::StageStatus;

// One fixture_faulty stage behind normalize, its params and [stages.process]
// table given as TOML.
inline PipelineFixture load(const std::string& params, const std::string& process = "") {
  return cascade::test_support::load_pipeline(
      "[pipeline]\nname = \"iso\"\nversion = \"1\"\n[output]\nresult = \"faulty.text\"\n"
      "[[stages]]\nid = \"clean\"\nplugin = \"normalize\"\ninputs = { text = \"input.text\" }\n"
      "[[stages]]\nid = \"faulty\"\nplugin = \"fixture_faulty\"\ninputs = { text = \"clean.text\" }\n"
      "params = { " + params + " }\nisolation = \"process\"\n" +
      (process.empty() ? "" : "[stages.process]\n" + process + "\n"));
}

inline std::vector<TurnInput> texts(size_t n, const std::string& bad_word, size_t every) {
  std::vector<TurnInput> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i].dialogue_id = "d" + std::to_string(i);
    v[i].turn_seq = i;
    v[i].payload_type = CASCADE_PAYLOAD_TEXT;
    v[i].payload = (every != 0 && i % every == every - 1) ? "say " + bad_word + " " + std::to_string(i)
                                                          : "Turn " + std::to_string(i);
  }
  return v;
}

// Under AddressSanitizer or ThreadSanitizer the worker's own sanitizer
// catches a deadly signal or a huge allocation (ASan also reports leaks at
// exit()) and exits with its own status (TSan: 66): the crash is recorded
// alike, only how the worker ended reads otherwise.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
inline std::string ending(const std::string& plain) { return kSanitized ? std::string("the worker process of") : plain; }

inline bool is_bad(const TurnInput& t, const std::string& word) { return t.payload.find(word) != std::string::npos; }

// Every good turn came out as the plugin makes it; every bad one failed at
// the faulty stage with `status`, its message naming `how`.
inline void expect_only_bad_turns_lost(const Traced& r, const std::vector<TurnInput>& in, const std::string& word,
                                       StageStatus status, const std::string& how) {
  ASSERT_EQ(r.data.turns.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const trace::StageRecord* s = r.data.find_seq(i)->stage("faulty");
    ASSERT_NE(s, nullptr) << i;
    if (is_bad(in[i], word)) {
      EXPECT_EQ(r.out[i].status, trace::TurnStatus::Failed) << i;
      EXPECT_EQ(r.out[i].failed_stage, "faulty") << i;
      EXPECT_EQ(s->status, status) << i << ": " << s->error_message;
      EXPECT_NE(s->error_message.find(how), std::string::npos) << s->error_message;
    } else {
      EXPECT_EQ(r.out[i].status, trace::TurnStatus::Ok) << i << ": " << r.out[i].error;
      EXPECT_EQ(r.out[i].result, "p:turn " + std::to_string(i)) << i;
      EXPECT_EQ(s->status, StageStatus::Ok) << i;
    }
  }
}

}  // namespace cascade::test_support::isolation
