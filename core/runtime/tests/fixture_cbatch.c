/* Test fixture in plain C11 against cascade_abi.h: a text stage with a
 * process_batch entry (ABI 1.2) that writes its output entries itself, for
 * the engine's micro-batches. Per turn, by its input text:
 *   "fail"     set_error + CASCADE_ERR_UNAVAILABLE, for that turn only
 *   "mistype"  its input stored on the text output with type JSON (the host
 *              must refuse it; through process() the host's emit refuses it)
 *   otherwise  its input forwarded (a view of the input's bytes)
 * Every turn processed in a batch call reports feature "batch_size" (that
 * call's n_turns), so a test sees which turns went through one call.
 * Built three times (CMakeLists.txt): c_batch; c_nobatch without the entry
 * (-DFIXTURE_NO_BATCH: process() only); and c_abi11 (-DFIXTURE_ABI_1_1), a
 * plugin of ABI 1.1 whose descriptor ENDS before process_batch: the memory
 * after it holds a pointer no host may read, let alone call. */
#include <cascade/abi/cascade_abi.h>

#include <stddef.h>
#include <string.h>

static cascade_status create(const cascade_host_api *host, cascade_context *ctx, void **instance) {
  (void)ctx;
  *instance = (void *)host;
  return CASCADE_OK;
}
static void destroy(void *instance) { (void)instance; }

static int is(const cascade_payload *p, const char *text) {
  return p->size == strlen(text) && memcmp(p->data, text, p->size) == 0;
}

/* One turn. `out`: the batch's output entry, or NULL to emit through the host. */
static cascade_status one(const cascade_host_api *host, cascade_context *ctx, const cascade_payload *in,
                          cascade_payload *out) {
  if (in->type != CASCADE_PAYLOAD_TEXT) return CASCADE_ERR_INVALID_ARGUMENT;
  if (is(in, "fail")) {
    host->set_error(ctx, CASCADE_ERR_UNAVAILABLE, 0, "c_batch: refused 'fail'");
    return CASCADE_ERR_UNAVAILABLE;
  }
  cascade_payload p = *in;
  if (is(in, "mistype")) p.type = CASCADE_PAYLOAD_JSON;
  if (out == NULL) return host->emit(ctx, 0, &p);
  *out = p;
  return CASCADE_OK;
}

static cascade_status process(void *instance, cascade_context *ctx, const cascade_payload *in, uint32_t n) {
  if (n != 1) return CASCADE_ERR_INVALID_ARGUMENT;
  return one((const cascade_host_api *)instance, ctx, in, NULL);
}

#if !defined(FIXTURE_NO_BATCH) && !defined(FIXTURE_ABI_1_1)
static cascade_status process_batch(void *instance, const cascade_batch *b) {
  const cascade_host_api *host = (const cascade_host_api *)instance;
  if (b->n_inputs != 1 || b->n_outputs != 1) return CASCADE_ERR_INVALID_ARGUMENT;
  for (uint32_t i = 0; i < b->n_turns; ++i) {
    host->report_feature(b->ctxs[i], "batch_size", (double)b->n_turns);
    b->status[i] = one(host, b->ctxs[i], b->inputs[i], b->outputs[i]);
  }
  return CASCADE_OK;
}
#define BATCH process_batch
#else
#define BATCH NULL
#endif

static const cascade_port in_ports[] = {{sizeof(cascade_port), "text", CASCADE_PAYLOAD_TEXT, 0, "input"}};
static const cascade_port out_ports[] = {{sizeof(cascade_port), "text", CASCADE_PAYLOAD_TEXT, 0, "the input"}};

#ifdef FIXTURE_ABI_1_1
/* Called only by a host that reads past the declared struct_size. */
static cascade_status not_yours(void *instance, const cascade_batch *b) {
  (void)instance;
  (void)b;
  __builtin_trap();
}
#define STRUCT_SIZE offsetof(cascade_plugin_descriptor, process_batch)
#define MINOR 1
#undef BATCH
#define BATCH not_yours
#else
#define STRUCT_SIZE sizeof(cascade_plugin_descriptor)
#define MINOR CASCADE_ABI_MINOR
#endif

static const cascade_plugin_descriptor descriptor = {
    STRUCT_SIZE, CASCADE_ABI_MAJOR, MINOR, FIXTURE_NAME, "0.1.0", "MIT",
    "batch-call fixture", CASCADE_KIND_STAGE, 0, 0, in_ports, 1, out_ports, 1, NULL, 0, create, NULL, process,
    NULL, destroy, BATCH, NULL};

CASCADE_EXPORT const cascade_plugin_descriptor *CASCADE_ENTRY_NAME(void) { return &descriptor; }
