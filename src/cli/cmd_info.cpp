// pins info: a dataset's metadata.

#include <algorithm>
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "pins/core/check.hpp"
#include "pins/core/dataset.hpp"

namespace pins::cli {

int run_info(MPI_Comm comm, const std::string&) {
  char data[PETSC_MAX_PATH_LEN] = "";
  PetscBool help = PETSC_FALSE;
  read_options([&]() -> PetscErrorCode {
    PetscFunctionBeginUser;
    PetscOptionsBegin(comm, nullptr, "pins info: print a dataset's metadata", "pins");
    PetscCall(PetscOptionsString("-data", "Dataset file (HDF5), required", "pins info", data, data,
                                 sizeof data, nullptr));
    PetscOptionsEnd();
    PetscCall(PetscOptionsHasHelp(nullptr, &help));
    PetscFunctionReturn(0);
  });
  if (help) return 0;
  on_rank0(comm, [&] {
    const std::string path = data;
    PINS_CHECK(!path.empty(), "-data <file.h5> is required: the dataset to describe");
    const Dataset d = read_dataset_info(path);
    const std::vector<Attribute> attributes = read_dataset_attributes(path);
    const long long n = d.samples;
    std::printf("file        %s\n", path.c_str());
    std::printf("samples     %lld\n", n);
    if (d.info.mesh)  // a mesh family: fields over its points (and cells)
      std::printf("mesh        %s (arrays mesh/coordinates, mesh/cells, mesh/points)\n",
                  d.info.mesh->describe().c_str());
    auto shape = [&](const std::vector<std::int64_t>& per_sample) {
      std::string s = "[" + std::to_string(n);
      for (auto v : per_sample) s += ", " + std::to_string(v);
      return s + "]";
    };
    std::string arrays;
    for (const auto& in : d.info.inputs)
      arrays += in.name + " " + shape(d.info.input_shape(in)) + ", ";
    if (d.info.labelled) {
      std::printf(
          "arrays      %su %s float64; iterations [%lld] int32; residual [%lld] float64; "
          "seeds [%lld, %d] uint64\n",
          arrays.c_str(), shape(d.info.solution_shape()).c_str(), n, n, n, d.info.seed_streams);
    } else {
      std::printf("contents    inputs only (written with -inputs_only): no solutions\n");
      arrays.resize(arrays.size() - 2);  // the last ", "
      std::printf("arrays      %s float64; seeds [%lld, %d] uint64\n", arrays.c_str(), n,
                  d.info.seed_streams);
    }
    std::printf("attributes\n");
    size_t width = 0;
    for (const auto& a : attributes) width = std::max(width, a.name.size());
    for (const auto& a : attributes)
      std::printf("  %-*s  %s\n", int(width), a.name.c_str(), to_string(a.value).c_str());
    std::fflush(stdout);
  });
  return 0;
}

}  // namespace pins::cli
