/*
 * cascade_analyzer.h — ABI 1.3: analyzer plugins. Plain C11, part of the
 * binary contract (cascade_abi.h is the rest of it).
 *
 * An analyzer reads recorded turns and says something about each: a label
 * (e.g. the failure point of the turn), a score and evidence. It never links
 * the core or the traces library: the HOST reads the traces and hands the
 * analyzer one turn at a time as the plain views below.
 *
 *   descriptor->kind     = CASCADE_KIND_ANALYZER
 *   descriptor->analyzer = &api (this header); process may be NULL.
 *
 * Lifecycle of one instance (one per analysis run):
 *
 *   create -> open -> analyze* -> close -> destroy
 *
 *   create/open/close/destroy are the descriptor's, as for stages (params
 *   through host->get_param, log through host->log). analyze() is called
 *   once per turn, concurrently from at most descriptor->max_concurrency
 *   threads (0 = any). Turns may arrive in any order.
 *
 * Memory: every view the host passes is owned by the host and valid for the
 * duration of the analyze() call that received it; a replay's result until
 * the next replay() call with the same context or the end of analyze().
 * Strings are UTF-8, NUL-terminated; payload bytes are not.
 *
 * Results: inside analyze(), the analyzer calls
 *   ahost->set_label(ctx, label, score)     exactly once for a verdict
 *   ahost->add_evidence(ctx, key, json, n)  any number of times
 * and returns CASCADE_OK. A non-OK status (with host->set_error) records
 * the turn as "not analyzed" with that error; the run goes on.
 */
#ifndef CASCADE_ANALYZER_H
#define CASCADE_ANALYZER_H

#include <cascade/abi/cascade_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status of one stage in one recorded turn (the trace's own values). */
typedef enum cascade_stage_status {
  CASCADE_STAGE_OK = 0,
  CASCADE_STAGE_ERROR = 1,
  CASCADE_STAGE_TIMEOUT = 2,
  CASCADE_STAGE_SKIPPED = 3,
  CASCADE_STAGE_CANCELLED = 4,
  CASCADE_STAGE_CRASHED = 5 /* its worker process died (isolation = "process") */
} cascade_stage_status;

/* Status of a whole recorded turn. */
typedef enum cascade_turn_status {
  CASCADE_TURN_OK = 0,
  CASCADE_TURN_FAILED = 1,
  CASCADE_TURN_CANCELLED = 2
} cascade_turn_status;

/* A payload as recorded on a named port. When `hashed` is 1 only its size
 * and xxh64 were kept (audio recorded with trace.audio = "hash"): data is
 * NULL and size is the original size. */
typedef struct cascade_port_value {
  uint32_t struct_size;
  const char *port;
  cascade_payload payload;
  uint32_t hashed;
  uint64_t xxh64;
} cascade_port_value;

typedef struct cascade_nbest_entry {
  uint32_t struct_size;
  const char *text;
  uint64_t len;
  double score;
} cascade_nbest_entry;

/* A feature a stage reported: numeric (text == NULL) or text. */
typedef struct cascade_feature {
  uint32_t struct_size;
  const char *key;
  double value;
  const char *text; /* NULL for a numeric feature */
  uint64_t text_len;
} cascade_feature;

/* One stage's record in one turn. */
typedef struct cascade_stage_view {
  uint32_t struct_size;
  const char *stage_id;
  const char *plugin;
  const char *plugin_version;
  uint32_t status;     /* cascade_stage_status */
  uint32_t error_code; /* cascade_status, or a core error number */
  const char *error_message;
  int64_t start_ns; /* since the Unix epoch */
  int64_t end_ns;
  const cascade_port_value *inputs;
  uint32_t n_inputs;
  const cascade_port_value *outputs;
  uint32_t n_outputs;
  uint32_t has_confidence;
  double confidence;
  const cascade_nbest_entry *nbest;
  uint32_t n_nbest;
  const cascade_feature *features;
  uint32_t n_features;
} cascade_stage_view;

/* One recorded turn: its turn record and its stage records in the order
 * they ran (start time; the pipeline's order for a linear pipeline). */
typedef struct cascade_turn_view {
  uint32_t struct_size;
  const char *dialogue_id;
  const char *user_id;
  uint32_t turn_index;
  uint64_t turn_seq;
  const char *timestamp; /* ISO 8601 as given by the input; may be "" */
  uint32_t status;       /* cascade_turn_status */
  int64_t start_ns;
  int64_t end_ns;
  cascade_port_value input; /* the turn's input, port "input" */
  const char *gold_json;    /* gold annotations per stage, a JSON object; "" when none */
  uint64_t gold_len;
  const char *result_json; /* the turn's result line, JSON; "" when none */
  uint64_t result_len;
  const cascade_stage_view *stages;
  uint32_t n_stages;
} cascade_turn_view;

/* What one analyze() call is given. */
typedef struct cascade_analysis_input {
  uint32_t struct_size;
  const cascade_turn_view *turn;
  /* The turn's whole dialogue (same dialogue_id, ordered by turn_index),
   * `turn` being dialogue[position]; only when the analyzer sets
   * CASCADE_ANALYZER_DIALOGUE, else NULL and 0. */
  const cascade_turn_view *dialogue;
  uint32_t n_dialogue;
  uint32_t position;
} cascade_analysis_input;

/* ---------------------------------------------------- counterfactual replay */

typedef enum cascade_force_source {
  CASCADE_FORCE_RECORDED = 1, /* the stage's outputs as this trace recorded them */
  CASCADE_FORCE_GOLD = 2,     /* the turn's gold annotation (key: gold_key, else the stage id) */
  CASCADE_FORCE_GIVEN = 3     /* the payloads in `outputs` */
} cascade_force_source;

/* One stage forced to an output instead of being run. */
typedef struct cascade_forced_stage {
  uint32_t struct_size;
  const char *stage_id;
  uint32_t source;      /* cascade_force_source */
  const char *gold_key; /* GOLD: the gold member to use; NULL = stage_id */
  const cascade_port_value *outputs; /* GIVEN: by port name */
  uint32_t n_outputs;
} cascade_forced_stage;

/* Re-run the turn being analyzed through the analysis' replay pipeline
 * with these stages forced; every other stage the result depends on runs
 * for real (stages the result does not need are not run). */
typedef struct cascade_replay_request {
  uint32_t struct_size;
  const cascade_forced_stage *forced;
  uint32_t n_forced;
} cascade_replay_request;

/* What a replay gave. Valid until the next replay() with the same context
 * or the end of analyze(). */
typedef struct cascade_replay_result {
  uint32_t struct_size;
  uint32_t status;            /* cascade_turn_status of the replayed turn */
  const char *failed_stage;   /* "" when none */
  const char *error_code;     /* "" when none */
  const char *error_message;  /* "" when none */
  cascade_payload result;     /* the pipeline's result output; type NONE when absent */
} cascade_replay_result;

/* ---------------------------------------------------------- host and plugin */

/* What the host offers an analyzer inside analyze(), beside the stage host
 * API it got in create() (log, get_param, set_error). */
typedef struct cascade_analyzer_host {
  uint32_t struct_size;
  /* The verdict: a label (one of api->labels when the analyzer declared
   * them) and a score in [0, 1] (its confidence in the label). */
  void (*set_label)(cascade_context *ctx, const char *label, double score);
  /* One piece of evidence: `json` is one JSON value (len bytes), stored
   * under `key` in the turn's evidence object. The host refuses (returns
   * CASCADE_ERR_INVALID_ARGUMENT) a value that does not parse. */
  cascade_status (*add_evidence)(cascade_context *ctx, const char *key,
                                 const char *json, uint64_t len);
  /* 1 when replay() is available (the run was given a replay pipeline). */
  int (*can_replay)(cascade_context *ctx);
  /* Counterfactual replay of the current turn (blocks until done; the host
   * batches replays of concurrent analyze() calls and runs them in
   * parallel). CASCADE_ERR_UNAVAILABLE without a replay pipeline;
   * CASCADE_ERR_INVALID_ARGUMENT for an unknown stage id or an unusable
   * forced output (set_error's message says which). */
  cascade_status (*replay)(cascade_context *ctx,
                           const cascade_replay_request *request,
                           cascade_replay_result *result);
} cascade_analyzer_host;

enum cascade_analyzer_flags {
  /* Hand analyze() the turn's whole dialogue (neighbours: rephrases,
   * barge-ins, silence). */
  CASCADE_ANALYZER_DIALOGUE = 1u << 0,
  /* The analyzer calls replay(): a run without a replay pipeline refuses
   * to start. */
  CASCADE_ANALYZER_REPLAYS = 1u << 1
};

/* The failure points of failure-point isolation, in pipeline order, then
 * "correct" (no failure): the labels the oracle and the isolators
 * declare, and the class order the core scores them in. One list, so
 * that an isolator, the oracle and the scores cannot drift apart. An
 * initializer: `static const char *const points[] = CASCADE_FAILURE_POINTS;`. */
#define CASCADE_FAILURE_POINTS \
  { "false_wake", "asr", "nlu", "er", "result", "correct" }

/* descriptor->analyzer of an analyzer plugin. */
typedef struct cascade_analyzer_api {
  uint32_t struct_size;
  uint32_t flags; /* cascade_analyzer_flags */
  /* Optional. The labels set_label may give, e.g. the failure-point
   * classes; a report lists them in this order. */
  const char *const *labels;
  uint32_t n_labels;
  /* Required. One turn. */
  cascade_status (*analyze)(void *instance, cascade_context *ctx,
                            const cascade_analyzer_host *ahost,
                            const cascade_analysis_input *input);
} cascade_analyzer_api;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CASCADE_ANALYZER_H */
