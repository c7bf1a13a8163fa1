#pragma once
/// \file
/// The pins CLI's subcommands. Each runs between PetscInitialize and PetscFinalize, reads its
/// options from PETSc's options database, returns the exit code and throws on errors (the
/// message becomes `pins <subcommand>: error: <message>`).

#include <petscsys.h>

#include <functional>
#include <string>

namespace pins::cli {

/// `command_line` is the whole command as typed (recorded in generated datasets).
int run_generate(MPI_Comm comm, const std::string& command_line);
int run_verify(MPI_Comm comm, const std::string& command_line);
int run_info(MPI_Comm comm, const std::string& command_line);
int run_train(MPI_Comm comm, const std::string& command_line);
int run_evaluate(MPI_Comm comm, const std::string& command_line);
int run_calibrate(MPI_Comm comm, const std::string& command_line);
int run_bench(MPI_Comm comm, const std::string& command_line);
/// `pins train -task precondition` (called by run_train with its parsed -o/-force/-surrogate_type).
int run_train_precondition(MPI_Comm comm, const std::string& command_line,
                           const std::string& output, bool force, const std::string& surrogate);
/// `pins train -task smoother` (the same parsed options).
int run_train_smoother(MPI_Comm comm, const std::string& command_line, const std::string& output,
                       bool force, const std::string& surrogate);

/// Reads options through `read` (a PetscErrorCode function). The options database holds the
/// same command line on every process, so a failure here happens on all of them alike and
/// is rethrown as pins::petsc::CollectiveError.
void read_options(const std::function<PetscErrorCode()>& read);

/// Runs `work` on every process of `comm` (which may itself be collective, e.g.
/// data-parallel training) and agrees on the outcome: if it threw anywhere, every process
/// throws pins::petsc::CollectiveError with the lowest-ranked failure's message.
void on_all_ranks(MPI_Comm comm, const std::function<void()>& work);

/// Runs `work` on rank 0 only (file reading, printing); an exception it throws is rethrown
/// on every process as pins::petsc::CollectiveError, so no process is left waiting.
void on_rank0(MPI_Comm comm, const std::function<void()>& work);

}  // namespace pins::cli
