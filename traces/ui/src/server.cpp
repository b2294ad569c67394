// server.cpp — the HTTP routes (the only file that includes httplib.h).
//
// Routes: "/" and "/assets/NAME" come from the embedded table only (no path
// ever reaches the file system); "/api/*" answer JSON (WAV for audio).
// Traces are addressed by their index on the command line, never by path,
// so a request cannot name a file the server was not given.
#include "server.hpp"

#include "assets.hpp"

#include <httplib.h>

#include <csignal>
#include <iostream>

namespace cascade::ui {
namespace {

httplib::Server* g_server = nullptr;

void on_signal(int) {
  if (g_server != nullptr) g_server->stop();
}

std::string content_type(std::string_view name) {
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

const Asset* find_asset(std::string_view name) {
  for (const auto& a : assets())
    if (a.name == name) return &a;
  return nullptr;
}

void send_json(httplib::Response& res, const nlohmann::json& j) {
  res.set_content(trace::dump_line(j), "application/json; charset=utf-8");
}

// Runs a handler; maps the request errors to 400/404 and anything else to 500.
void answer(httplib::Response& res, const std::function<void()>& f) {
  try {
    f();
  } catch (const NotFound& e) {
    res.status = 404;
    send_json(res, {{"error", e.what()}});
  } catch (const BadRequest& e) {
    res.status = 400;
    send_json(res, {{"error", e.what()}});
  } catch (const std::exception& e) {
    res.status = 500;
    send_json(res, {{"error", e.what()}});
  }
}

}  // namespace

void serve(const Catalog& catalog, const ServeOptions& options, const std::function<void(int port)>& on_listening) {
  httplib::Server server;
  // A trace is untrusted input: the page builds its DOM with textContent, and
  // this policy keeps any markup that slipped through from running scripts.
  server.set_default_headers({{"Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'"},
                              {"X-Content-Type-Options", "nosniff"},
                              {"Cache-Control", "no-store"}});

  auto serve_asset = [](std::string_view name, httplib::Response& res) {
    const Asset* a = find_asset(name);
    if (a == nullptr) {
      res.status = 404;
      res.set_content("not found", "text/plain");
      return;
    }
    res.set_content(std::string(a->bytes), content_type(name).c_str());
  };
  server.Get("/", [&](const httplib::Request&, httplib::Response& res) { serve_asset("index.html", res); });
  server.Get(R"(/assets/([A-Za-z0-9_-]+\.(js|css|svg|html)))", [&](const httplib::Request& req, httplib::Response& res) {
    serve_asset(req.matches[1].str(), res);
  });

  using Handler = nlohmann::json (Catalog::*)(const Params&) const;
  auto route = [&](const char* path, Handler h) {
    server.Get(path, [&catalog, h](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        const Params params = [&req](const std::string& k) { return req.get_param_value(k.c_str()); };
        send_json(res, (catalog.*h)(params));
      });
    });
  };
  server.Get("/api/info", [&](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { send_json(res, catalog.info()); });
  });
  route("/api/turns", &Catalog::list);
  route("/api/turn", &Catalog::turn);
  route("/api/summary", &Catalog::summary);
  route("/api/timeline", &Catalog::timeline);
  route("/api/compare", &Catalog::compare);
  route("/api/pair", &Catalog::pair);
  server.Get("/api/perfetto", [&](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      const Params params = [&req](const std::string& k) { return req.get_param_value(k.c_str()); };
      send_json(res, catalog.perfetto(params));
      res.set_header("Content-Disposition", "attachment; filename=\"turns.perfetto.json\"");
    });
  });
  server.Get("/api/audio", [&](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      const Params params = [&req](const std::string& k) { return req.get_param_value(k.c_str()); };
      res.set_content(catalog.audio(params), "audio/wav");
    });
  });

  const int port = options.port == 0 ? server.bind_to_any_port(options.host.c_str())
                                     : (server.bind_to_port(options.host.c_str(), options.port) ? options.port : -1);
  if (port < 0)
    throw UiError(codes::kServe, {},
                  "cannot listen on " + options.host + ":" + std::to_string(options.port) +
                      " (in use, or not an address of this machine)");
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  on_listening(port);
  server.listen_after_bind();
  g_server = nullptr;
}

}  // namespace cascade::ui
