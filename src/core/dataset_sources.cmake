# Dataset I/O (HDF5, pins dataset format): included by the top-level CMakeLists.txt inside
# pins_core's section when HDF5 is found. HDF5 include dirs, libraries and MPI::MPI_C are
# linked to pins_core there.
target_sources(pins_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/hdf5_util.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_info.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dataset_stream.cpp
  # Training on a dataset streamed from its file (pins::streamed_training_data).
  ${CMAKE_CURRENT_LIST_DIR}/train_stream.cpp
)
# The collective writer (pins/core/dataset_parallel.hpp) needs the MPI build of HDF5 (which
# PINS_ENABLE_PETSC requires). MPI stays private: whoever includes that header has MPI
# (pins::petsc).
if(HDF5_IS_PARALLEL)
  target_sources(pins_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/dataset_writer_mpi.cpp)
endif()
