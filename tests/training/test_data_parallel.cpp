// Data-parallel training without MPI: "processes" are threads of this test that share a
// ProcessGroup made of a barrier and an accumulator, so the loop's sums, shares and failure
// agreement are checked in pins::core alone (the MPI group is checked by the CLI tests).
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "helpers.hpp"
#include "pins/core/check.hpp"
#include "pins/core/process_group.hpp"

namespace {

using namespace pins;

// What the threads of one group share.
class SharedState {
 public:
  explicit SharedState(int size) : size_(size) {}

  // Every thread contributes `mine` (count values); every thread gets combine(all of them).
  template <class T, class Combine>
  void reduce(T* values, std::size_t count, Combine combine) {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::uint64_t generation = generation_;
    if (arrived_ == 0) buffer_.assign(count * sizeof(T), 0);
    T* acc = reinterpret_cast<T*>(buffer_.data());
    for (std::size_t i = 0; i < count; ++i)
      acc[i] = arrived_ == 0 ? values[i] : combine(acc[i], values[i]);
    if (++arrived_ == size_) {
      result_ = buffer_;
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
    } else {
      changed_.wait(lock, [&] { return generation_ != generation; });
    }
    std::memcpy(values, result_.data(), count * sizeof(T));
  }

 private:
  int size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  std::vector<char> buffer_, result_;
};

class ThreadGroup final : public ProcessGroup {
 public:
  ThreadGroup(SharedState& shared, int rank, int size) : s_(shared), rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(float* v, std::size_t n) const override {
    s_.reduce(v, n, [](float a, float b) { return a + b; });
  }
  void sum(double* v, std::size_t n) const override {
    s_.reduce(v, n, [](double a, double b) { return a + b; });
  }
  void max(double* v, std::size_t n) const override {
    s_.reduce(v, n, [](double a, double b) { return std::max(a, b); });
  }
  std::string first_error(const std::string& error) const override {
    // The lowest failing rank's message: gather every rank's length-prefixed flag first.
    std::vector<double> failed(size_t(size_), 0.0);
    failed[size_t(rank_)] = error.empty() ? 0 : 1;
    sum(failed.data(), failed.size());
    int winner = -1;
    for (int r = 0; r < size_ && winner < 0; ++r)
      if (failed[size_t(r)] > 0) winner = r;
    if (winner < 0) return {};
    // The winner's message, one character per entry of a sum.
    std::vector<double> length(1, rank_ == winner ? double(error.size()) : 0.0);
    sum(length.data(), 1);
    std::vector<double> text(size_t(length[0]), 0.0);
    if (rank_ == winner)
      for (size_t i = 0; i < error.size(); ++i) text[i] = double(static_cast<unsigned char>(error[i]));
    sum(text.data(), text.size());
    std::string message;
    for (double c : text) message += char(int(c));
    return message;
  }

 private:
  SharedState& s_;
  int rank_, size_;
};

TrainOptions quiet_options() {
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 5;
  o.lr = 3e-3;
  o.physics_weight = 0.1;
  o.monitor = 0;
  o.threads = 1;
  o.dtype = "float64";  // sums in another order: equal to round-off
  return o;
}

}  // namespace

TEST_CASE("data-parallel training in threads: same history as one process, same weights") {
  const TrainingData data = test::darcy_data(17, 8);
  TrainResult one;
  {
    auto model = test::small_fno(1);
    one = train_surrogate(*model, data, quiet_options());
  }
  constexpr int P = 3;
  SharedState shared(P);
  std::vector<TrainResult> results(P);
  std::vector<std::vector<torch::Tensor>> weights(P);
  std::vector<std::string> errors(P);
  std::vector<std::shared_ptr<Surrogate>> models;
  for (int r = 0; r < P; ++r) models.push_back(test::small_fno(1));
  std::vector<std::thread> threads;
  for (int r = 0; r < P; ++r)
    threads.emplace_back([&, r] {
      try {
        ThreadGroup group(shared, r, P);
        TrainOptions o = quiet_options();
        o.group = &group;
        results[size_t(r)] = train_surrogate(*models[size_t(r)], data, o);
        weights[size_t(r)] = test::weights(*models[size_t(r)]);
      } catch (const std::exception& e) {
        errors[size_t(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < P; ++r) REQUIRE_MESSAGE(errors[size_t(r)].empty(), errors[size_t(r)]);
  for (int r = 1; r < P; ++r) CHECK(test::same_weights(weights[0], weights[size_t(r)]));
  REQUIRE(results[0].history.size() == one.history.size());
  for (size_t e = 0; e < one.history.size(); ++e) {
    const EpochRecord &a = one.history[e], &b = results[0].history[e];
    CHECK(b.loss == doctest::Approx(a.loss).epsilon(1e-10));
    CHECK(b.data_loss == doctest::Approx(a.data_loss).epsilon(1e-10));
    CHECK(b.physics_loss == doctest::Approx(a.physics_loss).epsilon(1e-10));
    CHECK(b.val_rel_l2 == doctest::Approx(a.val_rel_l2).epsilon(1e-10));
  }
}

TEST_CASE("data-parallel training in threads: a failure on one process stops all, one message") {
  const TrainingData data = test::darcy_data(12, 8);
  constexpr int P = 2;
  SharedState shared(P);
  std::vector<std::string> errors(P);
  std::vector<std::shared_ptr<Surrogate>> models;  // the same initial weights on each
  for (int r = 0; r < P; ++r) models.push_back(test::small_fno(1));
  std::vector<std::thread> threads;
  for (int r = 0; r < P; ++r)
    threads.emplace_back([&, r] {
      Surrogate* model = models[size_t(r)].get();
      ThreadGroup group(shared, r, P);
      TrainOptions o = quiet_options();
      o.group = &group;
      // Process 1 fails in its fourth step; process 0 would go on.
      if (r == 1)
        o.loss_hook = [](std::int64_t step, const torch::Tensor& l) {
          PINS_CHECK(step != 3, "disk on fire in step ", step);
          return l;
        };
      try {
        train_surrogate(*model, data, o);
      } catch (const std::exception& e) {
        errors[size_t(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();  // no hang: both return
  CHECK(errors[0] == "disk on fire in step 3");
  CHECK(errors[1] == "disk on fire in step 3");
}
