// Running pins bench's generate/train/calibrate steps as child processes (bench_steps.hpp).
#include "bench_steps.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "evaluate_output.hpp"  // write_text_file
#include "pins/core/check.hpp"

extern char** environ;

namespace pins::cli {

namespace {

// The variables an MPI launcher (or MPI_Init of a singleton) puts into this process's
// environment: a child that inherited them would take itself for a rank of this job.
bool launcher_variable(const std::string& entry) {
  const std::string name = entry.substr(0, entry.find('='));
  if (name.rfind("PMIX_", 0) == 0 || name.rfind("PMI_", 0) == 0) return true;
  if (name.rfind("OMPI_", 0) != 0) return false;
  if (name.rfind("OMPI_ALLOW_RUN_AS_ROOT", 0) == 0) return false;  // the user's
  if (name.rfind("OMPI_MCA_", 0) == 0) {
    for (const char* p : {"OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix", "OMPI_MCA_initial_wdir",
                          "OMPI_MCA_shmem_RUNTIME_QUERY_hint"})
      if (name.rfind(p, 0) == 0) return true;
    return false;  // the user's MCA settings
  }
  return true;
}

std::string quoted(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    const bool plain = !a.empty() && a.find_first_of(" \t'\"\\$`*?") == std::string::npos;
    out += (out.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
  }
  return out;
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// Runs argv with stdout and stderr appended to `log`; the exit status (128 + signal if killed).
int run(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (!launcher_variable(*e)) env.push_back(*e);
  // Steps may ask for more processes than cores (OpenMPI refuses that otherwise).
  env.push_back("OMPI_MCA_rmaps_base_oversubscribe=1");
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  PINS_CHECK(pid >= 0, "cannot start ", argv[0], ": ", std::strerror(errno));
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execvpe(args[0], args.data(), envp.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    std::_Exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

std::string self_executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  PINS_CHECK(!ec, "cannot find this pins executable (/proc/self/exe): ", ec.message());
  return p.string();
}

}  // namespace

BenchStepResult run_bench_step(const BenchStep& step) {
  const std::string pins = self_executable();
  std::vector<std::vector<std::string>> argvs;
  std::string command;
  for (size_t i = 0; i < step.commands.size(); ++i) {
    std::vector<std::string> argv;
    if (i == 0 && step.procs > 1)
      argv = {"mpiexec", "-n", std::to_string(step.procs)};
    argv.push_back(pins);
    argv.insert(argv.end(), step.commands[i].begin(), step.commands[i].end());
    // The recorded command names "pins", not this build's path: moving the build keeps the cache.
    std::vector<std::string> shown = argv;
    for (auto& a : shown)
      if (a == pins) a = "pins";
    command += (command.empty() ? "" : " && ") + quoted(shown);
    argvs.push_back(argv);
  }
  BenchStepResult r{step.label, command, step.output, step.log};
  const std::string record = step.output + ".command";
  const std::string record_text =
      command + "\n" + (step.depends.empty() ? "" : "# depends on: " + step.depends + "\n");
  {
    std::ifstream in(record);
    std::stringstream recorded;
    recorded << in.rdbuf();
    if (in && std::filesystem::exists(step.output) && recorded.str() == record_text) {
      r.reused = true;
      return r;
    }
  }
  std::filesystem::remove(record);
  std::filesystem::remove(step.log);
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& argv : argvs) {
    {
      std::ofstream log(step.log, std::ios::app);
      log << "$ " << quoted(argv) << "\n";
    }
    const int status = run(argv, step.log);
    if (status != 0) {
      std::filesystem::remove(step.output);
      throw Error("bench step '" + step.label + "' failed (exit status " +
                  std::to_string(status) + "): " + last_line(step.log) + " (log: " + step.log +
                  ")");
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  PINS_CHECK(std::filesystem::exists(step.output), "bench step '", step.label,
             "' succeeded but wrote no ", step.output, " (log: ", step.log, ")");
  write_text_file(record, record_text);
  return r;
}

}  // namespace pins::cli
