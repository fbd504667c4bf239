#include "ci.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "analyze_logs/cli.hpp"
#include "analyze_logs/core/output_dir.hpp"
#include "analyze_logs/util.hpp"
#include "io.hpp"

namespace alog::cli {

namespace {

// GitHub refuses a step summary over 1 MiB; a longer SUMMARY.md is cut at a line, and says so.
constexpr size_t kStepSummaryMax = 1000 * 1000;

bool write_all(int fd, std::string_view s, int& err) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  auto fail = [&](int err) {
    return OutputError(
        fmt::format("{}: cannot write the {}: {}", path_, what_, std::strerror(err)));
  };
  struct stat st {};
  if (path_.empty()) throw fail(ENOENT);
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) throw fail(EISDIR);
  std::filesystem::path p(path_);
  std::filesystem::path dir =
      p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
  std::string tmpl = (dir / fmt::format(".{}.tmp-XXXXXX", p.filename().string())).string();
  cleanup_ = std::make_unique<interrupt::Cleanup>([this] {
    if (!tmp_.empty() && !done_) ::unlink(tmp_.c_str());
  });
  auto lock = interrupt::hold();
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) throw fail(errno);
  tmp_ = tmpl;
  ::fchmod(fd_, 0644);
}

AtomicFile::~AtomicFile() {
  cleanup_.reset();
  if (fd_ >= 0) ::close(fd_);
  if (!done_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::commit(std::string_view content) {
  int err = 0;
  bool ok = write_all(fd_, content, err);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok)
    throw OutputError(fmt::format("{}: cannot write the {}: {}", path_, what_, std::strerror(err)));
  done_ = true;
}

bool github_actions_enabled(bool no_github) {
  const char* v = std::getenv("GITHUB_ACTIONS");
  return !no_github && v && std::string_view(v) == "true";
}

int write_ci_outputs(const RunOptions& opt, AtomicFile* junit,
                     const std::vector<render::CiJob>& jobs, std::string_view summary_md) {
  if (junit) {
    core::Severity gate =
        opt.fail_on == "critical" ? core::Severity::critical : core::Severity::warning;
    try {
      junit->commit(render::junit_xml(jobs, gate));
    } catch (const OutputError& e) {
      return error(e.what());
    }
  }
  if (!opt.github) return kExitOk;
  std::string cmds = render::github_annotations(jobs);
  std::fwrite(cmds.data(), 1, cmds.size(), stderr);
  std::fflush(stderr);
  const char* summary = std::getenv("GITHUB_STEP_SUMMARY");
  if (!summary || !*summary) return kExitOk;
  std::string md(summary_md);
  if (md.size() > kStepSummaryMax) {
    size_t cut = md.rfind('\n', kStepSummaryMax);
    md.resize(cut == std::string::npos ? 0 : cut + 1);
    md +=
        "\n*(SUMMARY.md cut here: GitHub takes at most 1 MiB per step; the report folder has all "
        "of it)*\n";
  }
  int fd = ::open(summary, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  int err = errno;
  if (fd < 0 || !write_all(fd, md, err)) {
    warn(fmt::format("{}: cannot append the step summary (GITHUB_STEP_SUMMARY): {}", summary,
                     std::strerror(err)));
  }
  if (fd >= 0) ::close(fd);
  return kExitOk;
}

}  // namespace alog::cli
