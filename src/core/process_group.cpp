// The single-process group and the collective helpers of pins/core/process_group.hpp.
#include "pins/core/process_group.hpp"

#include <exception>

#include "pins/core/check.hpp"

namespace pins {

namespace {

class SingleProcess final : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(float*, std::size_t) const override {}
  void sum(double*, std::size_t) const override {}
  void max(double*, std::size_t) const override {}
  std::string first_error(const std::string& error) const override { return error; }
};

}  // namespace

const ProcessGroup& single_process() {
  static const SingleProcess group;
  return group;
}

void run_collectively(const ProcessGroup& group, const std::function<void()>& work) {
  std::string mine;
  std::exception_ptr failure;
  try {
    work();
  } catch (const std::exception& e) {
    failure = std::current_exception();
    mine = e.what();
    if (mine.empty()) mine = "unknown error";
  }
  if (group.size() > 1) {
    const std::string first = group.first_error(mine);
    // The process whose message won keeps its own exception (and its type, e.g.
    // pins::FileNotFound); the others throw the same message.
    if (!first.empty() && first != mine) throw Error(first);
  }
  if (failure) std::rethrow_exception(failure);
}

Share share_of(std::size_t n, int rank, int size) {
  PINS_CHECK(size >= 1 && rank >= 0 && rank < size, "share_of: rank ", rank, " of ", size);
  const std::size_t r = std::size_t(rank), p = std::size_t(size);
  return {n * r / p, n * (r + 1) / p};
}

}  // namespace pins
