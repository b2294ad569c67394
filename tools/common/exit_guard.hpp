// tools/common/exit_guard.hpp — one way for every tool's main() to turn
// what its work throws into a message on stderr and an exit code:
// 0 ok, 1 runtime failure (unreadable trace, failed run, cannot write),
// 2 usage or config error. The `cascade` CLI's own commands follow the same
// codes (core/apps/cascade); the tools are separate programs it execs.
//
// Messages: a CascadeError, a TraceError, or any exception whose text
// already starts with its code ("error[A010]: ...", e.g. a rewrite table's
// TableError) print as they are; a std::invalid_argument is a usage error
// ("error: ..."); anything else a runtime failure ("error: ...").
//
// Threading: call from the thread that owns the tool's main().
#pragma once

#include <cascade/core/diagnostic.hpp>
#include <cascade/trace/error.hpp>

#include <exception>
#include <iostream>
#include <stdexcept>
#include <string_view>

namespace cascade::tools {

inline constexpr int kOk = 0, kRuntimeFailure = 1, kUsageError = 2;

// Runs `body` (it returns the exit code) and maps what it throws.
template <class Body>
int exit_guard(Body&& body) {
  try {
    return body();
  } catch (const CascadeError& e) {
    std::cerr << e.what() << "\n";
    return e.code().starts_with("C") ? kUsageError : kRuntimeFailure;
  } catch (const trace::TraceError& e) {
    std::cerr << e.what() << "\n";
    return kRuntimeFailure;
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kUsageError;
  } catch (const std::exception& e) {
    const std::string_view what = e.what();
    // A coded message ("error[X123]: ..." or "file:line: error[X123]: ...")
    // is printed as is.
    std::cerr << (what.find("error[") != std::string_view::npos ? "" : "error: ") << what << "\n";
    return kRuntimeFailure;
  }
}

}  // namespace cascade::tools
