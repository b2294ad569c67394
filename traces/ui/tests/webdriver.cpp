// webdriver.cpp — the WebDriver client (HTTP via cpp-httplib's client).
#include "webdriver.hpp"

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace cascade::ui::testing {
namespace {

const char* const kChromium = "/usr/bin/chromium";
const char* const kDriver = "/usr/bin/chromedriver";

std::string base64_decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    const auto at = chars.find(c);
    if (at == std::string::npos) continue;  // '=' and line breaks
    buf = (buf << 6) | static_cast<uint32_t>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::optional<std::string> WebDriver::unavailable() {
  if (::access(kChromium, X_OK) != 0) return std::string(kChromium) + " not installed (apt-get install chromium)";
  if (::access(kDriver, X_OK) != 0) return std::string(kDriver) + " not installed (apt-get install chromium-driver)";
  return std::nullopt;
}

WebDriver::WebDriver() {
  port_ = free_port();
  driver_ = ::fork();
  if (driver_ == 0) {
    const std::string port = "--port=" + std::to_string(port_);
    ::execl(kDriver, kDriver, port.c_str(), "--allowed-ips=127.0.0.1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  httplib::Client c("127.0.0.1", port_);
  for (int i = 0; i < 200; ++i) {  // until chromedriver answers
    if (auto r = c.Get("/status"); r && r->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  nlohmann::json caps;
  caps["capabilities"]["alwaysMatch"] = {
      {"browserName", "chrome"},
      {"goog:chromeOptions",
       {{"binary", kChromium},
        {"args", {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                  "--no-first-run", "--disable-extensions", "--disable-background-networking"}}}}};
  session_ = call("POST", "/session", caps)["sessionId"].get<std::string>();
}

WebDriver::~WebDriver() {
  try {
    if (!session_.empty()) call("DELETE", "/session/" + session_);
  } catch (const std::exception&) {
  }
  if (driver_ > 0) {
    ::kill(driver_, SIGTERM);
    ::waitpid(driver_, nullptr, 0);
  }
}

nlohmann::json WebDriver::call(const std::string& method, const std::string& path, const nlohmann::json& body) {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(120, 0);
  const std::string payload = body.is_null() ? "{}" : body.dump();
  httplib::Result r = method == "POST"   ? c.Post(path.c_str(), payload, "application/json")
                      : method == "GET"  ? c.Get(path.c_str())
                                         : c.Delete(path.c_str());
  if (!r) throw std::runtime_error("chromedriver did not answer " + method + " " + path);
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || r->status != 200)
    throw std::runtime_error("chromedriver: " + method + " " + path + " -> " + std::to_string(r->status) + ": " +
                             r->body.substr(0, 500));
  if (j.contains("sessionId") && path == "/session") return j;
  return j["value"];
}

void WebDriver::go(const std::string& url) { call("POST", "/session/" + session_ + "/url", {{"url", url}}); }

nlohmann::json WebDriver::run(const std::string& body) {
  return call("POST", "/session/" + session_ + "/execute/sync", {{"script", body}, {"args", nlohmann::json::array()}});
}

nlohmann::json WebDriver::wait_for(const std::string& body, const std::string& what, int seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    auto v = run(body);
    if (!(v.is_null() || v == false || v == 0 || v == "")) return v;
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("page never showed " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void WebDriver::screenshot(const std::filesystem::path& png) {
  const auto data = call("GET", "/session/" + session_ + "/screenshot").get<std::string>();
  std::filesystem::create_directories(png.parent_path());
  std::ofstream(png, std::ios::binary) << base64_decode(data);
}

}  // namespace cascade::ui::testing
