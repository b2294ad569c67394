# `cascade eval rewrite` (rewrite_eval.hpp): included from CMakeLists.txt.
# Simulated sessions (tools/simulate) through the recorded-ASR
# assistant with and without each rewriter.

add_library(cascade_rewrite_eval STATIC rewrite_eval.cpp rewrite_metrics.cpp)
target_include_directories(cascade_rewrite_eval PUBLIC ${PROJECT_SOURCE_DIR}/tools)
target_link_libraries(cascade_rewrite_eval
  PUBLIC cascade_rewriting_sim nlohmann_json::nlohmann_json PRIVATE cascade_run cascade_traces)
target_compile_features(cascade_rewrite_eval PUBLIC cxx_std_20)

set(CASCADE_EVAL_REWRITE_DEFAULTS
  CASCADE_EVAL_RECORDED_ASR_PIPELINE="${PROJECT_SOURCE_DIR}/pipelines/assistant-recorded-asr.toml"
  CASCADE_EVAL_REWRITE_PIPELINE="${PROJECT_SOURCE_DIR}/pipelines/assistant-recorded-asr-rewrite.toml"
  CASCADE_EVAL_ONLINE_PIPELINE="${PROJECT_SOURCE_DIR}/pipelines/assistant-recorded-asr-online.toml"
  CASCADE_EVAL_CHAIN_PIPELINE="${PROJECT_SOURCE_DIR}/pipelines/assistant-recorded-asr-rewrite-chain.toml"
  CASCADE_EVAL_SLURP="${PROJECT_SOURCE_DIR}/data/slurp/devel.jsonl"
  CASCADE_EVAL_CATALOG_JSON="${CASCADE_ASSISTANT_DATA_DIR}/catalog.json"
  CASCADE_EVAL_ASR_MODEL="${PROJECT_SOURCE_DIR}/tools/simulate/asr_error_model.json")

target_sources(cascade-eval PRIVATE rewrite_cli.cpp)
target_link_libraries(cascade-eval PRIVATE cascade_rewrite_eval)
target_compile_definitions(cascade-eval PRIVATE ${CASCADE_EVAL_REWRITE_DEFAULTS})

if(CASCADE_BUILD_TESTS)
  # The paired metrics on their own, and `cascade eval rewrite --size small`
  # end to end (the recorded-ASR assistant's plugins, the rewrite stage and
  # cascade-rewrite; the online rewriter when it is built).
  add_executable(cascade_rewrite_eval_test rewrite_eval_test.cpp)
  target_link_libraries(cascade_rewrite_eval_test PRIVATE cascade_rewrite_eval GTest::gtest_main)
  target_compile_definitions(cascade_rewrite_eval_test PRIVATE CASCADE_EVAL_BINARY="$<TARGET_FILE:cascade-eval>")
  add_dependencies(cascade_rewrite_eval_test cascade-eval cascade-rewrite recorded_asr normalize nlu er result rewrite
    assistant_data)
  if(TARGET online_rewrite)
    add_dependencies(cascade_rewrite_eval_test online_rewrite)
  endif()
  gtest_discover_tests(cascade_rewrite_eval_test DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 240)
endif()
