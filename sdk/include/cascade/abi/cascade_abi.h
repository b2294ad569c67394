/*
 * cascade_abi.h — the ONLY binary contract between the Cascade host and a
 * plugin. Plain C11; no C++ type, exception, allocator or STL object ever
 * crosses it.
 *
 * Versioning
 *   - CASCADE_ABI_MAJOR changes only on an incompatible change. The entry
 *     point's symbol name carries it (cascade_plugin_entry_v1), so a host
 *     of another major never even calls into the plugin.
 *   - CASCADE_ABI_MINOR grows when fields are APPENDED. Load rule: the
 *     plugin's major must equal the host's, its minor must be <= the host's.
 *   - Every struct starts with `struct_size` (sizeof as the plugin/host that
 *     filled it saw it). Fields are only ever appended; a reader reads a
 *     field only if it lies inside the declared size
 *     (CASCADE_HAS_FIELD below). Arrays of structs are strided by their
 *     first element's struct_size, so an array built by an older SDK reads
 *     correctly in a newer host.
 *   - History: 1.0 first release. 1.1 appends host->forward (pass an
 *     input through without the host's copy check). 1.2 appends
 *     descriptor->process_batch (many turns of one stage in one call). 1.3
 *     appends descriptor->analyzer (analyzer plugins: cascade_analyzer.h).
 *     1.4 appends host->turn (the dialogue, user and index of the turn a
 *     process() call is for). A plugin of an older minor runs unchanged in
 *     a 1.4 host.
 *
 * Memory
 *   - Everything a plugin hands the host (descriptor, strings, payload
 *     views passed to emit) stays owned by the plugin. The descriptor and
 *     its arrays must live as long as the library is loaded (the host never
 *     unloads a plugin). Emitted payloads are COPIED by the host before emit
 *     returns, so the plugin may free or reuse its buffer right after.
 *   - Everything the host hands a plugin (input payloads, parameter values,
 *     the host API table) stays owned by the host and is valid for the
 *     duration of the call that received it (host API: for the instance's
 *     whole life).
 *
 * Errors
 *   - Functions return cascade_status. A plugin describes a failure with
 *     host->set_error(ctx, ...) before returning the status. No exception
 *     may unwind through this boundary: the C++ layer (cascade/sdk) wraps
 *     every entry in a catch-all trampoline.
 */
#ifndef CASCADE_ABI_H
#define CASCADE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CASCADE_ABI_MAJOR 1
#define CASCADE_ABI_MINOR 4

/* The entry point's name carries the ABI major. */
#define CASCADE_ENTRY_NAME_(major) cascade_plugin_entry_v##major
#define CASCADE_ENTRY_NAME_X_(major) CASCADE_ENTRY_NAME_(major)
#define CASCADE_ENTRY_NAME CASCADE_ENTRY_NAME_X_(CASCADE_ABI_MAJOR)
#define CASCADE_STR_(x) #x
#define CASCADE_STR_X_(x) CASCADE_STR_(x)
#define CASCADE_ENTRY_SYMBOL CASCADE_STR_X_(CASCADE_ENTRY_NAME)

#if defined(_WIN32)
#define CASCADE_EXPORT __declspec(dllexport)
#else
#define CASCADE_EXPORT __attribute__((visibility("default")))
#endif

/* True when struct `ptr` (of type `type`, with a leading struct_size)
 * declares a size that covers `field` entirely. */
#define CASCADE_HAS_FIELD(ptr, type, field)                                    \
  ((ptr) != NULL && (size_t)(ptr)->struct_size >=                              \
                        offsetof(type, field) + sizeof(((type *)0)->field))

/* ------------------------------------------------------------------ status */

typedef enum cascade_status {
  CASCADE_OK = 0,
  CASCADE_ERR_INVALID_ARGUMENT = 1, /* bad parameter value or input payload */
  CASCADE_ERR_INTERNAL = 2,         /* a bug or an unexpected exception      */
  CASCADE_ERR_UNAVAILABLE = 3,      /* resource missing (model file, device) */
  CASCADE_ERR_CANCELLED = 4,        /* gave up because should_stop() said so */
  CASCADE_ERR_DEADLINE = 5,         /* gave up because the deadline passed   */
  CASCADE_ERR_NO_RESULT = 6,        /* ran fine, has nothing to say          */
  CASCADE_ERR_UNSUPPORTED = 7       /* called in a way it does not support   */
} cascade_status;

/* ---------------------------------------------------------------- payloads */

typedef enum cascade_payload_type {
  CASCADE_PAYLOAD_NONE = 0,  /* absent (a skipped upstream stage)          */
  CASCADE_PAYLOAD_TEXT = 1,  /* UTF-8 bytes, not NUL-terminated            */
  CASCADE_PAYLOAD_AUDIO = 2, /* PCM16 little-endian mono; size in BYTES    */
  CASCADE_PAYLOAD_JSON = 3,  /* one UTF-8 JSON document (interpretations,
                                slots, entities, results)                 */
  CASCADE_PAYLOAD_ANY = 255  /* port type only: accepts every payload type */
} cascade_payload_type;

/* A plain view of bytes. Lifetime: see "Memory" above. */
typedef struct cascade_payload {
  uint32_t struct_size;
  uint32_t type;        /* cascade_payload_type */
  const void *data;     /* may be NULL when size == 0 */
  uint64_t size;        /* in bytes */
  uint32_t sample_rate; /* AUDIO only: samples per second (16000 typical) */
} cascade_payload;

/* ------------------------------------------------------- ports and params */

enum cascade_port_flags {
  CASCADE_PORT_OPTIONAL = 1u << 0 /* input only: may stay unconnected */
};

typedef struct cascade_port {
  uint32_t struct_size;
  const char *name;      /* Required. [a-z0-9_]+, unique within its side */
  uint32_t payload_type; /* Required. cascade_payload_type               */
  uint32_t flags;        /* Optional. cascade_port_flags                 */
  const char *doc;       /* Optional. one line                           */
} cascade_port;

typedef enum cascade_param_type {
  CASCADE_PARAM_BOOL = 1,
  CASCADE_PARAM_INT = 2,
  CASCADE_PARAM_DOUBLE = 3,
  CASCADE_PARAM_STRING = 4
} cascade_param_type;

typedef struct cascade_param {
  uint32_t struct_size;
  const char *name;          /* Required. [a-z0-9_]+                      */
  uint32_t type;             /* Required. cascade_param_type              */
  const char *default_value; /* Required. the default, written as text:
                                "true", "42", "0.5", "alexa"              */
  const char *doc;           /* Optional. one line                        */
} cascade_param;

/* ------------------------------------------------------------- host side */

/* Opaque to plugins. The host passes one to every call; it identifies the
 * instance (create/open/close) or the instance AND the turn (process). */
typedef struct cascade_context cascade_context;

typedef enum cascade_log_level {
  CASCADE_LOG_TRACE = 0,
  CASCADE_LOG_DEBUG = 1,
  CASCADE_LOG_INFO = 2,
  CASCADE_LOG_WARN = 3,
  CASCADE_LOG_ERROR = 4
} cascade_log_level;

/* Who and where the turn of a process() call is (ABI 1.4, host->turn).
 * Views into the host's memory, valid until that process() call returns;
 * not NUL-terminated. */
typedef struct cascade_turn_info {
  uint32_t struct_size;     /* set by the CALLER to sizeof as it sees it */
  const char *dialogue_id;  /* the turn's dialogue */
  size_t dialogue_id_len;
  const char *user_id;      /* "" when the input names no user */
  size_t user_id_len;
  uint32_t turn_index;      /* its index in its dialogue */
  uint64_t turn_seq;        /* unique within the run, increasing */
} cascade_turn_info;

/* Functions the host offers. Valid for the life of the instance it was
 * given to; every function is thread-safe for distinct contexts. Functions
 * marked [process] may only be called with the context of a process() call
 * still in progress; the others with any context. */
typedef struct cascade_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* Log one message (UTF-8, NUL-terminated); the host adds stage id. */
  void (*log)(cascade_context *ctx, cascade_log_level level, const char *msg);

  /* Look up a parameter's value as text (the configured value, or the
   * declared default). Returns 1 and fills value and len when the name is
   * declared, 0 otherwise. The text stays valid for the instance's life. */
  int (*get_param)(cascade_context *ctx, const char *name, const char **value,
                   size_t *len);

  /* Describe the failure the current call is about to return. `transient`
   * is 1 when retrying the same input may succeed. */
  void (*set_error)(cascade_context *ctx, cascade_status code, int transient,
                    const char *message);

  /* [process] Emit a payload on output port `port` (index into the
   * descriptor's outputs). The host copies it before returning. Emitting
   * twice on one port replaces the first value. */
  cascade_status (*emit)(cascade_context *ctx, uint32_t port,
                         const cascade_payload *payload);

  /* [process] Features recorded in the trace for this stage and turn. */
  void (*report_confidence)(cascade_context *ctx, double confidence);
  void (*report_nbest)(cascade_context *ctx, const char *text, size_t len,
                       double score);
  void (*report_feature)(cascade_context *ctx, const char *key,
                         double value);
  void (*report_feature_text)(cascade_context *ctx, const char *key,
                              const char *value, size_t len);

  /* [process] 1 when the turn was cancelled or its deadline passed: a
   * long-running plugin should poll this and return CASCADE_ERR_CANCELLED. */
  int (*should_stop)(cascade_context *ctx);
  /* [process] Nanoseconds left before the stage's deadline; INT64_MAX when
   * none is set; <= 0 when it has passed. */
  int64_t (*remaining_ns)(cascade_context *ctx);

  /* ---- ABI 1.1 (check CASCADE_HAS_FIELD(host, cascade_host_api, forward)
   * and that the pointer is non-NULL before calling) ---- */

  /* [process] Emit input `in_port` unchanged on output `out_port`: the
   * host keeps a view of the input instead of copying it (inputs outlive
   * the turn's processing). Same checks as emit. The cheap way for
   * pass-through stages; emit() of the input's own payload is equivalent. */
  cascade_status (*forward)(cascade_context *ctx, uint32_t out_port,
                            uint32_t in_port);

  /* ---- ABI 1.4 (check CASCADE_HAS_FIELD(host, cascade_host_api, turn)
   * and that the pointer is non-NULL before calling) ---- */

  /* [process] Fills `out` (set out->struct_size first; the host fills the
   * fields that fit in it) with the identity of this call's turn: per-user
   * behaviour (personal rewrites, a user's own vocabulary) keys on it.
   * CASCADE_ERR_UNSUPPORTED outside process(). */
  cascade_status (*turn)(cascade_context *ctx, cascade_turn_info *out);
} cascade_host_api;

/* ------------------------------------------------------------ batches */

/* ABI 1.2: the turns of one process_batch() call. Built by the host, read
 * by the plugin; valid for the duration of that call. Entry i (0 <= i <
 * n_turns) of each array belongs to one turn, as process() would have
 * seen it. */
typedef struct cascade_batch {
  uint32_t struct_size;
  uint32_t n_turns;
  uint32_t n_inputs;  /* per turn: the descriptor's n_inputs  */
  uint32_t n_outputs; /* per turn: the descriptor's n_outputs */
  /* The turn's context: what process() receives, for every host call
   * (emit, forward, report_*, should_stop, set_error). */
  cascade_context *const *ctxs;
  /* The turn's n_inputs inputs, as process() receives them. */
  const cascade_payload *const *inputs;
  /* The turn's n_outputs outputs, type NONE on entry. A plugin may store
   * in outputs[i][p] a copy of one of inputs[i]'s payloads (a forward,
   * without a host call); any other bytes go through emit(ctxs[i], ...),
   * which fills the entry itself. The host checks every entry's type
   * against the declared port type after the call. */
  cascade_payload *const *outputs;
  /* Per turn, what process() would have returned for it: CASCADE_OK on
   * entry, so a plugin writes only its failures (set_error with ctxs[i]
   * describes one). */
  cascade_status *status;
} cascade_batch;

/* ----------------------------------------------------------- plugin side */

typedef enum cascade_plugin_kind {
  CASCADE_KIND_STAGE = 1,    /* a pipeline stage: inputs -> outputs     */
  CASCADE_KIND_ANALYZER = 2, /* reads recorded turns (cascade_analyzer.h) */
  CASCADE_KIND_REWRITER = 3  /* rewrites a request (text -> text)       */
} cascade_plugin_kind;

enum cascade_plugin_flags {
  /* Same inputs and parameters give byte-identical outputs; replay checks
   * this. */
  CASCADE_PLUGIN_DETERMINISTIC = 1u << 0
};

/* Lifecycle of one instance (one per pipeline stage):
 *
 *   create -> open -> process* -> close -> destroy
 *
 * create:  read parameters (host->get_param), allocate; no heavy work.
 * open:    acquire resources (load models, open files). May fail with a
 *          status + set_error; then close is not called, destroy is.
 * process: one call per turn. Inputs arrive in the order of the declared
 *          input ports (n_inputs of them; an absent optional or skipped
 *          input has type CASCADE_PAYLOAD_NONE). The host calls process
 *          concurrently on ONE instance from at most `max_concurrency`
 *          threads at a time (0 = no limit, 1 = never concurrently).
 *          process_batch (1.2) stands for several process calls.
 * close:   release what open acquired. Called once, after every process
 *          call has returned.
 * destroy: free the instance. Always called if create succeeded.
 */
struct cascade_analyzer_api; /* cascade_analyzer.h */

typedef struct cascade_plugin_descriptor {
  uint32_t struct_size;
  uint16_t abi_major; /* Required. CASCADE_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor; /* Required. CASCADE_ABI_MINOR the plugin was built with */

  const char *name;        /* Required. [a-z0-9_.-]+, unique per process */
  const char *version;     /* Required. the plugin's own version, semver */
  const char *license;     /* Required. SPDX identifier                  */
  const char *description; /* Optional. one line                         */
  uint32_t kind;           /* Required. cascade_plugin_kind             */
  uint32_t flags;          /* Optional. cascade_plugin_flags            */
  uint32_t max_concurrency; /* Required. see process above (0 = any)    */

  const cascade_port *inputs; /* Optional. n_inputs entries */
  uint32_t n_inputs;
  const cascade_port *outputs; /* Optional. n_outputs entries */
  uint32_t n_outputs;
  const cascade_param *params; /* Optional. n_params entries */
  uint32_t n_params;

  /* Required. *instance receives the plugin's state. */
  cascade_status (*create)(const cascade_host_api *host, cascade_context *ctx,
                           void **instance);
  /* Optional (NULL = nothing to acquire). */
  cascade_status (*open)(void *instance, cascade_context *ctx);
  /* Required for a stage; NULL for an analyzer. */
  cascade_status (*process)(void *instance, cascade_context *ctx,
                            const cascade_payload *inputs, uint32_t n_inputs);
  /* Optional. */
  cascade_status (*close)(void *instance, cascade_context *ctx);
  /* Required. Must not fail. */
  void (*destroy)(void *instance);

  /* ---- ABI 1.2 (a host checks CASCADE_HAS_FIELD(d,
   * cascade_plugin_descriptor, process_batch) and non-NULL) ---- */

  /* Optional (NULL = the host calls process() once a turn). The turns of
   * batch->n_turns process() calls in one: same inputs, same host calls,
   * same max_concurrency (one batch call counts as one call), each turn's
   * status in batch->status. Returns CASCADE_OK when the statuses say what
   * became of each turn; any other status fails every turn of the batch
   * with it. A
   * host calls it only when it runs a stage for many turns back to back
   * (the pipeline's run.micro_batch > 1); the C++ layer provides it. */
  cascade_status (*process_batch)(void *instance, const cascade_batch *batch);

  /* ---- ABI 1.3 (CASCADE_HAS_FIELD(d, cascade_plugin_descriptor, analyzer))
   * ---- */

  /* Required for kind CASCADE_KIND_ANALYZER, NULL otherwise: analyze()
   * and the labels it gives (cascade_analyzer.h). */
  const struct cascade_analyzer_api *analyzer;
} cascade_plugin_descriptor;

/* The one symbol every plugin exports. Runs no plugin code beyond
 * returning a pointer to static data, so a host may call it to inspect. */
typedef const cascade_plugin_descriptor *(*cascade_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CASCADE_ABI_H */
