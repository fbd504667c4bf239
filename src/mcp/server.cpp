// The MCP server's JSON-RPC 2.0 loop: one message a line on standard input, answers on standard
// output (nothing else is ever written there; warnings go to stderr). Tool calls run on threads
// of their own, at most Config::max_parallel at once, so a notifications/cancelled read while
// one runs stops it (no answer is sent for a cancelled request, as the protocol asks).
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "analyze_logs/core/interrupt.hpp"
#include "internal.hpp"

namespace alog::mcp {
namespace {

// Newest first; the answer to an initialize naming another is the newest.
const char* const kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
constexpr size_t kMaxMessage = size_t{16} << 20;  // bytes in one line
constexpr size_t kMaxInFlight = 64;               // tool calls running or waiting

const char* kInstructions =
    "analyze-logs reads the logs of distributed ML training and serving jobs (prime-rl, srtctl/SGLang, Ray, hung "
    "PyTorch jobs). Start with `analyze` on a job's folder: its verdict, cause and findings cite file:line. Then `trace` "
    "one weight update or one actor, `grep` around a finding's time, or `compare` two runs. Paths are confined to the "
    "folders this server was started with.";

class Server {
 public:
  Server(int out_fd, const Config& cfg) : out_fd_(out_fd), cfg_(cfg), roots_(cfg.roots) {}

  void handle_line(std::string_view line);
  // The client closed its end: the calls in flight still get their answers (a script can pipe
  // its requests in), then the server ends. A client in a hurry sends SIGTERM, as the protocol's
  // shutdown says, and the analyses are stopped.
  void finish();
  void cancel_all();

 private:
  void send(const json& msg);
  void reply(const json& id, json result) { send({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}); }
  void fail(const json& id, int code, const std::string& message) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
  }
  void request(const json& id, const std::string& method, const json& params);
  void notification(const std::string& method, const json& params);
  void start_call(const json& id, const json& params);

  int out_fd_;
  Config cfg_;
  Roots roots_;
  std::mutex out_mu_;
  bool out_closed_ = false;
  bool initialized_ = false;

  std::mutex calls_mu_;
  std::condition_variable slot_free_;
  unsigned running_ = 0;
  std::map<std::string, std::shared_ptr<Call>> calls_;  // by id.dump()
  struct Worker {
    std::thread t;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> threads_;  // only the reading thread touches the list
};

void Server::send(const json& msg) {
  std::string s = msg.dump(-1, ' ', false, json::error_handler_t::replace);
  s += '\n';
  std::lock_guard lk(out_mu_);
  if (out_closed_) return;
  size_t at = 0;
  while (at < s.size()) {
    ssize_t n = ::write(out_fd_, s.data() + at, s.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out_closed_ = true;  // the client is gone; what runs is stopped when its input ends
      return;
    }
    at += static_cast<size_t>(n);
  }
}

void Server::handle_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.empty()) return;
  json msg = json::parse(line, nullptr, false);
  if (msg.is_discarded()) return fail(nullptr, -32700, "Parse error: not a JSON message");
  if (msg.is_array()) return fail(nullptr, -32600, "Invalid Request: batches are not part of this protocol revision");
  if (!msg.is_object()) return fail(nullptr, -32600, "Invalid Request: a message is a JSON object");
  json id = msg.contains("id") ? msg["id"] : json();
  bool has_id = msg.contains("id");
  if (has_id && !id.is_string() && !id.is_number_integer())
    return fail(nullptr, -32600, "Invalid Request: id must be a string or an integer");
  if (!msg.contains("method")) return;  // a response to us: we send no requests, so nothing waits for it
  if (!msg["method"].is_string() || msg.value("jsonrpc", json()) != "2.0")
    return has_id ? fail(id, -32600, "Invalid Request: jsonrpc must be \"2.0\" and method a string") : void();
  std::string method = msg["method"].get<std::string>();
  json params = msg.contains("params") ? msg["params"] : json::object();
  if (!params.is_object()) return has_id ? fail(id, -32602, "Invalid params: params must be an object") : void();
  if (has_id)
    request(id, method, params);
  else
    notification(method, params);
}

void Server::request(const json& id, const std::string& method, const json& params) {
  if (method == "initialize") {
    std::string asked = params.contains("protocolVersion") && params["protocolVersion"].is_string() ? params["protocolVersion"].get<std::string>() : "";
    std::string version = kVersions[0];
    for (const char* v : kVersions)
      if (asked == v) version = v;
    initialized_ = true;
    return reply(id, {{"protocolVersion", version},
                      {"capabilities", {{"tools", {{"listChanged", false}}}}},
                      {"serverInfo", {{"name", "analyze-logs"}, {"title", "analyze-logs"}, {"version", cfg_.version}}},
                      {"instructions", kInstructions}});
  }
  if (method == "ping") return reply(id, json::object());
  if (!initialized_) return fail(id, -32002, "Server not initialized: send initialize first");
  if (method == "tools/list") return reply(id, {{"tools", tool_list()}});
  if (method == "tools/call") return start_call(id, params);
  return fail(id, -32601, fmt::format("Method not found: {}", method));
}

void Server::notification(const std::string& method, const json& params) {
  if (method == "notifications/cancelled") {
    if (!params.contains("requestId")) return;
    std::lock_guard lk(calls_mu_);
    auto it = calls_.find(params["requestId"].dump());
    if (it != calls_.end()) it->second->cancel();
    slot_free_.notify_all();
  }
  // notifications/initialized and any other notification need no answer.
}

void Server::start_call(const json& id, const json& params) {
  if (!params.contains("name") || !params["name"].is_string()) return fail(id, -32602, "Invalid params: tools/call needs a tool name");
  std::string name = params["name"].get<std::string>();
  json args = params.contains("arguments") ? params["arguments"] : json::object();
  auto call = std::make_shared<Call>();
  {
    std::lock_guard lk(calls_mu_);
    if (calls_.size() >= kMaxInFlight) return fail(id, -32000, fmt::format("{} tool calls are already running or waiting; wait for their answers", kMaxInFlight));
    if (!calls_.emplace(id.dump(), call).second) return fail(id, -32600, "Invalid Request: a request with this id is still running");
  }
  // Threads that have answered are joined now: what is kept stays bounded by the calls in flight.
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (*it->done) {
      it->t.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  threads_.push_back({std::thread([this, id, name, args, call, done] {
    struct Done {
      std::atomic<bool>& d;
      ~Done() { d = true; }
    } mark{*done};
    {
      std::unique_lock lk(calls_mu_);
      slot_free_.wait(lk, [&] { return running_ < cfg_.max_parallel || call->cancelled; });
      if (!call->cancelled) ++running_;
    }
    bool ran = !call->cancelled;
    std::optional<ToolResult> res;
    std::string unknown;
    if (ran) {
      try {
        res = call_tool(name, args, roots_, cfg_, *call);
      } catch (const std::out_of_range& e) {
        unknown = e.what();
      } catch (const std::exception& e) {
        res = ToolResult{true, e.what(), json{{"error", e.what()}}};
      }
    }
    bool cancelled = call->cancelled;
    {
      std::lock_guard lk(calls_mu_);
      if (ran) --running_;
      calls_.erase(id.dump());
    }
    slot_free_.notify_all();
    if (cancelled) return;  // the protocol: no answer to a cancelled request
    if (!unknown.empty()) return fail(id, -32602, unknown);
    json result = {{"content", json::array({{{"type", "text"}, {"text", res->text}}})}, {"isError", res->error}};
    if (res->structured.is_object()) result["structuredContent"] = std::move(res->structured);
    reply(id, std::move(result));
  }), done});
}

void Server::cancel_all() {
  std::lock_guard lk(calls_mu_);
  for (auto& [k, c] : calls_) c->cancel();
  slot_free_.notify_all();
}

void Server::finish() {
  for (auto& w : threads_)
    if (w.t.joinable()) w.t.join();
}

}  // namespace

int serve(int in_fd, int out_fd, const Config& cfg) {
  Server server(out_fd, cfg);
  // A signal ends the server: the analyses it started end with it.
  interrupt::Cleanup stop_children([&server] { server.cancel_all(); });
  std::string buf;
  char chunk[65536];
  bool skipping = false;  // inside a line longer than kMaxMessage
  while (true) {
    ssize_t n = ::read(in_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t from = 0;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (chunk[i] != '\n') continue;
      if (!skipping) {
        buf.append(chunk + from, i - from);
        server.handle_line(buf);
      }
      skipping = false;
      buf.clear();
      from = i + 1;
    }
    if (!skipping) buf.append(chunk + from, static_cast<size_t>(n) - from);
    if (buf.size() > kMaxMessage) {
      buf.clear();
      skipping = true;
      std::fprintf(stderr, "analyze-logs mcp: a message longer than %zu bytes was skipped\n", kMaxMessage);
    }
  }
  if (!buf.empty() && !skipping) server.handle_line(buf);
  server.finish();
  return 0;
}

}  // namespace alog::mcp
