/* A plugin written in plain C11 against cascade_abi.h, compiled several
 * times with one FIXTURE_* define each to produce the broken plugins the
 * loader must refuse (and two good ones). See CMakeLists.txt beside it. */
#include <cascade/abi/cascade_abi.h>

#include <string.h>

static cascade_status create(const cascade_host_api *host, cascade_context *ctx, void **instance) {
  (void)host;
  (void)ctx;
  *instance = (void *)host;
  return CASCADE_OK;
}

#ifdef FIXTURE_UNRESOLVED
/* Defined nowhere: the library links (no --no-undefined) but cannot load
 * with RTLD_NOW. */
extern int cascade_fixture_missing_symbol(void);
#endif

static cascade_status process(void *instance, cascade_context *ctx, const cascade_payload *in, uint32_t n) {
  const cascade_host_api *host = (const cascade_host_api *)instance;
#ifdef FIXTURE_UNRESOLVED
  if (cascade_fixture_missing_symbol() != 0) return CASCADE_ERR_INTERNAL;
#endif
  if (n < 1 || in[0].type != CASCADE_PAYLOAD_TEXT) return CASCADE_ERR_INVALID_ARGUMENT;
  return host->emit(ctx, 0, &in[0]);
}
static void destroy(void *instance) { (void)instance; }

#ifdef FIXTURE_OLD_LAYOUT
/* An "older SDK" port layout: only the fields up to payload_type. The host
 * must stride the array by this size and not read flags/doc. */
typedef struct old_port {
  uint32_t struct_size;
  const char *name;
  uint32_t payload_type;
} old_port;
static const old_port in_ports[] = {{sizeof(old_port), "text", CASCADE_PAYLOAD_TEXT},
                                    {sizeof(old_port), "extra", CASCADE_PAYLOAD_JSON}};
#define IN_PORTS ((const cascade_port *)in_ports)
#define N_IN 2
#else
static const cascade_port in_ports[] = {{sizeof(cascade_port), "text", CASCADE_PAYLOAD_TEXT, 0, "input"}};
#define IN_PORTS in_ports
#define N_IN 1
#endif
static const cascade_port out_ports[] = {{sizeof(cascade_port), "text", CASCADE_PAYLOAD_TEXT, 0, "output"}};
static const cascade_param params[] = {{sizeof(cascade_param), "level", CASCADE_PARAM_INT, "3", "a number"}};

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "c_echo"
#endif

static cascade_plugin_descriptor descriptor = {
    sizeof(cascade_plugin_descriptor), CASCADE_ABI_MAJOR, CASCADE_ABI_MINOR, FIXTURE_NAME, "0.1.0", "MIT",
    "echo written in C", CASCADE_KIND_STAGE, CASCADE_PLUGIN_DETERMINISTIC, 0, IN_PORTS, N_IN, out_ports, 1,
    params, 1, create, NULL, process, NULL, destroy,
    NULL /* no process_batch: a host calls process() once a turn */,
    NULL /* not an analyzer (ABI 1.3) */};

#if defined(FIXTURE_ABI_MAJOR_PLUS_ONE)
CASCADE_EXPORT const cascade_plugin_descriptor *cascade_plugin_entry_v2(void) { return &descriptor; }
#elif defined(FIXTURE_NO_ENTRY)
CASCADE_EXPORT const cascade_plugin_descriptor *some_other_function(void) { return &descriptor; }
#else
CASCADE_EXPORT const cascade_plugin_descriptor *CASCADE_ENTRY_NAME(void) {
#if defined(FIXTURE_MINOR_PLUS_ONE)
  descriptor.abi_minor = CASCADE_ABI_MINOR + 1;
#elif defined(FIXTURE_SMALL_STRUCT)
  descriptor.struct_size = 8; /* covers struct_size and versions only */
#elif defined(FIXTURE_NULL_DESCRIPTOR)
  return NULL;
#elif defined(FIXTURE_BAD_DEFAULT)
  static const cascade_param bad[] = {{sizeof(cascade_param), "level", CASCADE_PARAM_INT, "three", "a number"}};
  descriptor.params = bad;
#endif
  return &descriptor;
}
#endif
