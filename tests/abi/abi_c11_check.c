/* Compiles cascade_abi.h as strict C11 (-std=c11 -Wall -Wextra -Wpedantic
 * -Werror): the binary contract must stay usable from C. */
#include <cascade/abi/cascade_abi.h>
#include <cascade/abi/cascade_analyzer.h>

_Static_assert(CASCADE_ABI_MAJOR == 1, "this check is written for ABI 1");
_Static_assert(offsetof(cascade_plugin_descriptor, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(cascade_host_api, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(cascade_payload, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(cascade_port, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(cascade_param, struct_size) == 0, "struct_size comes first");

int cascade_abi_c11_check(void);
int cascade_abi_c11_check(void) {
  static const char *const failure_points[] = CASCADE_FAILURE_POINTS;
  _Static_assert(sizeof failure_points / sizeof failure_points[0] == 6, "six failure points");
  cascade_payload p = {sizeof(cascade_payload), CASCADE_PAYLOAD_TEXT, "x", 1, 0};
  return CASCADE_HAS_FIELD(&p, cascade_payload, sample_rate) && failure_points[0][0] == 'f' ? 0 : 1;
}
