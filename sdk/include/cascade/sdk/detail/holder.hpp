// cascade/sdk/detail/holder.hpp — one plugin object as the host holds it,
// and the C-ABI lifecycle entry points around it, written once for stages
// (stage.hpp) and analyzers (analyzer.hpp): create/open/close/destroy,
// each catching whatever the plugin's code throws and returning it to the
// host as a status with its message. Nothing unwinds into the host.
//
// The layer parameter L gives the two things of stage.hpp the trampolines
// need, so this header stands alone and stage.hpp can include it first:
//   L::Context                 built from (host, ctx): what open/close see
//   L::report(host, ctx)       reports the exception being handled to the
//                              host, returns its status (noexcept)
// T has open(L::Context&) and close(L::Context&) and a default constructor.
//
// Lifecycle: create() news a Holder (T's constructor), destroy() deletes
// it; open before any call, close after the last (the ABI's order).
// Threading: the trampolines keep no state; they touch only the instance
// the host hands them, under the host's guarantees for that call.
#pragma once

#include <cascade/abi/cascade_abi.h>

namespace cascade::sdk::detail {

template <class T, class L>
struct Holder {
  T object;
  const cascade_host_api* host;

  static Holder& of(void* inst) noexcept { return *static_cast<Holder*>(inst); }

  // Runs f(); what escapes it becomes the status reported for ctx.
  template <class F>
  static cascade_status guard(const cascade_host_api* host, cascade_context* ctx, F&& f) noexcept {
    try {
      f();
      return CASCADE_OK;
    } catch (...) {
      return L::report(host, ctx);
    }
  }

  static cascade_status create(const cascade_host_api* host, cascade_context* ctx, void** inst) noexcept {
    // guard() catches bad_alloc too: clang-tidy cannot see through the lambda.
    return guard(host, ctx, [&] { *inst = new Holder{T{}, host}; });  // NOLINT(bugprone-unhandled-exception-at-new)
  }
  static cascade_status open(void* inst, cascade_context* ctx) noexcept {
    Holder& h = of(inst);
    return guard(h.host, ctx, [&] {
      typename L::Context c(h.host, ctx);
      h.object.open(c);
    });
  }
  static cascade_status close(void* inst, cascade_context* ctx) noexcept {
    Holder& h = of(inst);
    return guard(h.host, ctx, [&] {
      typename L::Context c(h.host, ctx);
      h.object.close(c);
    });
  }
  static void destroy(void* inst) noexcept { delete static_cast<Holder*>(inst); }

  // Points a descriptor's lifecycle entries at these trampolines.
  static void install(cascade_plugin_descriptor& d) noexcept {
    d.create = &create;
    d.open = &open;
    d.close = &close;
    d.destroy = &destroy;
  }
};

}  // namespace cascade::sdk::detail
