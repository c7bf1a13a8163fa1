#pragma once
/// \file
/// Progress of a long run on stderr: a redrawn bar on a terminal, otherwise (logs, CI) a
/// line about every 10 %. Both show samples per second.

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace pins::petsc::detail {

class Progress {
 public:
  /// `enabled` false makes every call a no-op (e.g. on ranks other than 0).
  Progress(const char* label, std::int64_t total, bool enabled, std::FILE* out = stderr);

  /// `done` of `total` items are finished.
  void update(std::int64_t done);

  /// Ends the bar's line (terminal mode); call once when done or failing.
  void finish();

 private:
  double elapsed() const;

  const char* label_;
  std::int64_t total_;
  bool enabled_;
  bool terminal_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  double last_draw_ = -1;
  std::int64_t next_line_percent_ = 10;
  bool drew_bar_ = false;
};

}  // namespace pins::petsc::detail
