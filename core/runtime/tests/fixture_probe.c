/* Test fixture in plain C11 against cascade_abi.h: probes the host API,
 * for tests/host_api_conformance_test.cpp (the engine and the SDK's test
 * harness must answer every call alike). Per turn, its input text names
 * one probe; the status the host returned is reported as feature "status":
 *   "emit"               emit the input on `text`
 *   "emit_bad_port"      emit on port 7 (there are 3)
 *   "emit_wrong_type"    emit the text input on `meta` (declared json)
 *   "emit_null"          emit a null payload
 *   "emit_any"           emit the input on `any` (declared any)
 *   "forward"            forward input 0 onto `text`
 *   "forward_wrong_type" forward input 0 onto `meta`
 *   "forward_bad_input"  forward input 5 onto `text`
 *   "set_error"          set_error(UNAVAILABLE, transient) and fail
 *   "fail_silently"      return UNAVAILABLE without set_error
 *   "report"             confidence, two n-best entries, features
 *   "param"              get_param of `greeting` (text feature) and of an
 *                        undeclared name (feature "found")
 *   "stop"               should_stop() and whether remaining_ns() is
 *                        INT64_MAX (features)
 *   "turn"               host->turn (ABI 1.4): the turn's dialogue and user
 *                        (text features), index and seq (features)
 * Every turn also reports "emit_in_open": what emit returned when open()
 * tried it (outside process()). */
#include <cascade/abi/cascade_abi.h>

#include <stdint.h>
#include <string.h>

typedef struct {
  const cascade_host_api *host;
  cascade_status emit_in_open;
} probe;

static probe the_probe;

static cascade_status create(const cascade_host_api *host, cascade_context *ctx, void **instance) {
  (void)ctx;
  the_probe.host = host;
  *instance = &the_probe;
  return CASCADE_OK;
}
static cascade_status open_(void *instance, cascade_context *ctx) {
  probe *p = (probe *)instance;
  cascade_payload none = {sizeof(cascade_payload), CASCADE_PAYLOAD_TEXT, "x", 1, 0};
  p->emit_in_open = p->host->emit(ctx, 0, &none);
  return CASCADE_OK;
}
static void destroy(void *instance) { (void)instance; }

static int is(const cascade_payload *p, const char *text) {
  return p->size == strlen(text) && memcmp(p->data, text, p->size) == 0;
}

static cascade_status process(void *instance, cascade_context *ctx, const cascade_payload *in, uint32_t n) {
  const probe *p = (const probe *)instance;
  const cascade_host_api *h = p->host;
  cascade_status st = CASCADE_OK;
  if (n != 1 || in->type != CASCADE_PAYLOAD_TEXT) return CASCADE_ERR_INVALID_ARGUMENT;
  h->report_feature(ctx, "emit_in_open", (double)p->emit_in_open);
  if (is(in, "emit")) st = h->emit(ctx, 0, in);
  if (is(in, "emit_bad_port")) st = h->emit(ctx, 7, in);
  if (is(in, "emit_wrong_type")) st = h->emit(ctx, 1, in);
  if (is(in, "emit_null")) st = h->emit(ctx, 0, NULL);
  if (is(in, "emit_any")) st = h->emit(ctx, 2, in);
  if (is(in, "forward")) st = h->forward(ctx, 0, 0);
  if (is(in, "forward_wrong_type")) st = h->forward(ctx, 1, 0);
  if (is(in, "forward_bad_input")) st = h->forward(ctx, 0, 5);
  if (is(in, "set_error")) {
    h->set_error(ctx, CASCADE_ERR_UNAVAILABLE, 1, "probe: refused on purpose");
    return CASCADE_ERR_UNAVAILABLE;
  }
  if (is(in, "fail_silently")) return CASCADE_ERR_UNAVAILABLE;
  if (is(in, "report")) {
    h->report_confidence(ctx, 0.25);
    h->report_nbest(ctx, "first", 5, 0.75);
    h->report_nbest(ctx, "second", 6, 0.25);
    h->report_feature(ctx, "length", 6.0);
    h->report_feature_text(ctx, "kind", "probe", 5);
  }
  if (is(in, "param")) {
    const char *v = NULL;
    size_t len = 0;
    if (h->get_param(ctx, "greeting", &v, &len)) h->report_feature_text(ctx, "greeting", v, len);
    h->report_feature(ctx, "found", (double)h->get_param(ctx, "no_such_param", &v, &len));
  }
  if (is(in, "stop")) {
    h->report_feature(ctx, "should_stop", (double)h->should_stop(ctx));
    h->report_feature(ctx, "remaining_is_max", h->remaining_ns(ctx) == INT64_MAX ? 1.0 : 0.0);
  }
  if (is(in, "turn")) {
    cascade_turn_info t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    st = h->turn(ctx, &t);
    h->report_feature_text(ctx, "dialogue_id", t.dialogue_id, t.dialogue_id_len);
    h->report_feature_text(ctx, "user_id", t.user_id, t.user_id_len);
    h->report_feature(ctx, "turn_index", (double)t.turn_index);
    h->report_feature(ctx, "turn_seq", (double)t.turn_seq);
  }
  h->report_feature(ctx, "status", (double)st);
  return CASCADE_OK;
}

static const cascade_port in_ports[] = {{sizeof(cascade_port), "text", CASCADE_PAYLOAD_TEXT, 0, "which probe"}};
static const cascade_port out_ports[] = {
    {sizeof(cascade_port), "text", CASCADE_PAYLOAD_TEXT, 0, "the input, for emit and forward"},
    {sizeof(cascade_port), "meta", CASCADE_PAYLOAD_JSON, 0, "never written: the wrong-type probes aim here"},
    {sizeof(cascade_port), "any", CASCADE_PAYLOAD_ANY, 0, "takes any type"}};
static const cascade_param params[] = {
    {sizeof(cascade_param), "greeting", CASCADE_PARAM_STRING, "hello", "reported by the param probe"}};

static const cascade_plugin_descriptor descriptor = {
    sizeof(cascade_plugin_descriptor), CASCADE_ABI_MAJOR, CASCADE_ABI_MINOR, "fixture_probe", "0.1.0", "MIT",
    "host API probe", CASCADE_KIND_STAGE, 0, 0, in_ports, 1, out_ports, 3, params, 1, create, open_, process,
    NULL, destroy, NULL, NULL};

CASCADE_EXPORT const cascade_plugin_descriptor *CASCADE_ENTRY_NAME(void) { return &descriptor; }
