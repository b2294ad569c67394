// webdriver.hpp — just enough of the W3C WebDriver protocol to drive a
// headless Chromium through chromium-driver on 127.0.0.1: open a page, run
// a script, wait for a condition, take a screenshot.
//
// Lifecycle: the constructor starts chromedriver (a child process) and a
//   session; the destructor ends both. unavailable() says why the tests
//   must be skipped (no chromium or chromedriver installed), or nothing.
// Threading: one test thread.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace cascade::ui::testing {

class WebDriver {
 public:
  static std::optional<std::string> unavailable();
  WebDriver();
  ~WebDriver();
  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  void go(const std::string& url);
  // Runs `body` as a function body (`return ...;`), awaiting a returned promise.
  nlohmann::json run(const std::string& body);
  // Polls `body` until it returns something truthy; returns it, or throws
  // with `what` after `seconds` (a generous bound on waiting, not a timing assertion).
  nlohmann::json wait_for(const std::string& body, const std::string& what, int seconds = 30);
  void screenshot(const std::filesystem::path& png);

 private:
  nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);
  pid_t driver_ = -1;
  int port_ = 0;
  std::string session_;
};

// A free TCP port on 127.0.0.1 (bound, read, released).
int free_port();

}  // namespace cascade::ui::testing
