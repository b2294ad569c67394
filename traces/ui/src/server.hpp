// server.hpp — serves the Catalog and the embedded front end over HTTP on
// one address (127.0.0.1 unless told otherwise). cpp-httplib is confined to
// server.cpp.
//
// Lifecycle: serve() blocks until the process is stopped (SIGINT/SIGTERM);
//   `on_listening(port)` runs once the socket is bound (port 0 = any free).
// Threading: requests are answered on the server's worker threads; the
//   Catalog is thread-safe.
#pragma once

#include "query.hpp"

#include <functional>
#include <string>

namespace cascade::ui {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8737;
};

// Returns when stopped; throws UiError U005 when it cannot listen.
void serve(const Catalog& catalog, const ServeOptions& options, const std::function<void(int port)>& on_listening);

}  // namespace cascade::ui
