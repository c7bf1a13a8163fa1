#include "evaluate_output.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "pins/core/check.hpp"

namespace pins::cli {

void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    PINS_CHECK(out.good(), "cannot write '", path, "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp);
  PINS_CHECK(!ec, "cannot write '", path, "': ", ec.message());
}

void write_npy(const std::string& path, const torch::Tensor& values) {
  const torch::Tensor v = values.to(torch::kCPU, torch::kFloat64).contiguous();
  std::string shape = "(";
  for (int64_t d : v.sizes()) shape += std::to_string(d) + ", ";
  if (v.dim() > 1) shape.erase(shape.size() - 2);
  shape += ")";
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(static_cast<const char*>(v.data_ptr()), size_t(v.numel()) * sizeof(double));
  write_text_file(path, bytes);
}

std::string run_plot_script(const std::string& folder, const std::string& script_name) {
  const char* py_env = std::getenv("PINS_PYTHON");
  const char* script_env = std::getenv("PINS_PLOT_SCRIPT");
  const std::string python = py_env ? py_env : (::access("/usr/bin/python3", X_OK) == 0
                                                    ? "/usr/bin/python3"
                                                    : "python3");
  const bool evaluation = script_name == "plot_evaluation.py";
  std::string script = script_env && evaluation
                           ? std::string(script_env)
                           : std::string(PINS_SCRIPT_DIR_SOURCE) + "/" + script_name;
  if (!std::filesystem::exists(script))
    script = std::string(PINS_SCRIPT_DIR_INSTALLED) + "/" + script_name;
  if (!std::filesystem::exists(script)) return "plotting script " + script_name + " not found";
  std::fflush(nullptr);  // else the child would write our buffered output a second time
  const pid_t pid = ::fork();
  if (pid < 0) return "cannot start " + python;
  if (pid == 0) {
    // The script's own messages go to a log in the report folder, not to our stderr.
    const std::string log = folder + "/plot.log";
    if (std::freopen(log.c_str(), "w", stdout) && std::freopen(log.c_str(), "a", stderr)) {
    }
    ::execlp(python.c_str(), python.c_str(), script.c_str(), folder.c_str(), (char*)nullptr);
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return "cannot run " + python;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
    return python + " has no matplotlib (Debian: apt-get install python3-matplotlib)";
  return script_name + " failed (see " + folder + "/plot.log)";
}

}  // namespace pins::cli
