#pragma once
// A std::streambuf that hands each complete line to a Python callable, for the progress
// output of C++ trainers (TrainOptions::out and the like), so Python decides how to show it
// (a progress bar updated in place) instead of lines appended to the process's stdout.

#include <streambuf>
#include <string>

#include "bindings.hpp"

namespace pins::python {

/// Each line written goes to `callback(line)` (None: dropped), with the GIL taken. A
/// pending KeyboardInterrupt, or an exception the callback raises, is thrown from the write
/// as py::error_already_set; give the std::ostream exceptions(std::ios::badbit) so the
/// stream rethrows it instead of just setting badbit.
class LineToPython : public std::streambuf {
 public:
  explicit LineToPython(py::object callback) : callback_(std::move(callback)) {}
  ~LineToPython() override {
    py::gil_scoped_acquire gil;
    callback_ = py::object();
  }

 protected:
  int_type overflow(int_type ch) override {
    if (ch == traits_type::eof()) return traits_type::not_eof(ch);
    if (ch != '\n') {
      line_.push_back(char(ch));
      return ch;
    }
    std::string line;
    line.swap(line_);
    py::gil_scoped_acquire gil;
    throw_if_python_signal();
    if (callback_ && !callback_.is_none()) callback_(line);
    return ch;
  }

 private:
  py::object callback_;
  std::string line_;
};

}  // namespace pins::python
