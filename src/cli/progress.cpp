#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "analyze_logs/util.hpp"

namespace alog::cli {

void Progress::update(const std::string& name, uint64_t done, uint64_t total) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  if (elapsed < 0.5 || now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double rate = static_cast<double>(done) / elapsed;
  std::string line;
  std::string shown = printable(name);
  if (shown.size() > 30) shown = "…" + shown.substr(shown.size() - 29);
  if (total > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    int width = 24, fill = static_cast<int>(frac * width);
    double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : 0;
    line = fmt::format("\r{} [{}{}] {:3.0f}% {} / {}  {:.0f} MB/s  ETA {:.0f}s\x1b[K", shown, std::string(fill, '#'),
                       std::string(width - fill, ' '), frac * 100, human_bytes(done), human_bytes(total), rate / 1e6, eta);
  } else {
    line = fmt::format("\r{} {}  {:.0f} MB/s\x1b[K", shown, human_bytes(done), rate / 1e6);
  }
  shown_ = true;
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

void Progress::clear() {
  if (!shown_) return;
  const char* c = "\r\x1b[K";
  [[maybe_unused]] auto n = ::write(2, c, 4);
  shown_ = false;
}

}  // namespace alog::cli
