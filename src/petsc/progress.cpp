#include "progress.hpp"

#include <unistd.h>

#include <string>

namespace pins::petsc::detail {

Progress::Progress(const char* label, std::int64_t total, bool enabled, std::FILE* out)
    : label_(label),
      total_(total > 0 ? total : 1),
      enabled_(enabled),
      terminal_(enabled && ::isatty(::fileno(out))),
      out_(out),
      start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::int64_t done) {
  if (!enabled_) return;
  const double t = elapsed();
  const double rate = t > 0 ? double(done) / t : 0.0;
  if (terminal_) {
    // Redraw at most 10 times a second, and always at the end.
    if (done < total_ && t - last_draw_ < 0.1) return;
    last_draw_ = t;
    constexpr int kWidth = 30;
    const int filled = int(kWidth * done / total_);
    const std::string bar =
        std::string(size_t(filled), '#') + std::string(size_t(kWidth - filled), '.');
    const double eta = rate > 0 ? double(total_ - done) / rate : 0.0;
    std::fprintf(out_, "\r%s [%s] %lld/%lld  %.1f samples/s  ETA %.0fs ", label_, bar.c_str(),
                 (long long)done, (long long)total_, rate, eta);
    std::fflush(out_);
    drew_bar_ = true;
    return;
  }
  const std::int64_t percent = 100 * done / total_;
  if (percent < next_line_percent_ && done < total_) return;
  while (next_line_percent_ <= percent) next_line_percent_ += 10;
  std::fprintf(out_, "%s: %lld/%lld samples (%lld%%), %.1f samples/s, %.1f s\n", label_,
               (long long)done, (long long)total_, (long long)percent, rate, t);
  std::fflush(out_);
}

void Progress::finish() {
  if (enabled_ && terminal_ && drew_bar_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
  drew_bar_ = false;
}

}  // namespace pins::petsc::detail
