#!/bin/bash
# GPU check of pins::core: build Kokkos 3.4.1 (Debian's trilinos source, CUDA backend,
# sm_90) and pins::core against PyTorch's LibTorch, run the core tests on the GPU and the
# stencil benchmark, and (with packed data, prepare.sh) the FNO accuracy run. Runs from the
# repository root on the device machine; build logs stay in /tmp (their tails are printed on
# a failure) so that what comes back in $OUT stays within the tool's 8 files.
set -o pipefail
D=$PWD/.device
J=16
log() { echo "== $(date +%T) $*"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
log "1. Kokkos (CUDA + Serial)"
cmake -S $D/kokkos -B /tmp/kbuild -DCMAKE_CXX_COMPILER=$D/kokkos/bin/nvcc_wrapper \
  -DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_SERIAL=ON -DKokkos_ARCH_AMPERE80=ON \
  -DKokkos_ENABLE_CUDA_LAMBDA=ON -DCMAKE_CXX_STANDARD=17 -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DCMAKE_INSTALL_PREFIX=/tmp/kinstall -DCMAKE_BUILD_TYPE=Release > /tmp/kokkos.log 2>&1 &&
  cmake --build /tmp/kbuild -j$J >> /tmp/kokkos.log 2>&1 &&
  cmake --install /tmp/kbuild >> /tmp/kokkos.log 2>&1 || { tail -40 /tmp/kokkos.log; exit 1; }
log "2. pins::core (PINS_ENABLE_PETSC=OFF) with nvcc_wrapper"
TORCH_PREFIX=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
CUDADRV=$(ldconfig -p | awk '/libcuda\.so /{print $NF; exit}')
[ -n "$CUDADRV" ] || CUDADRV=$(ls /usr/local/cuda/lib64/stubs/libcuda.so /usr/local/cuda/targets/x86_64-linux/lib/stubs/libcuda.so 2>/dev/null | head -1)
echo "libcuda: $CUDADRV"
# Kokkos exported CUDA::cuda_driver without a location on this machine: define it first.
KC=/tmp/kinstall/lib/cmake/Kokkos/KokkosConfig.cmake
grep -q pins-device-fix $KC || { cat > /tmp/kfix <<EOT
# pins-device-fix: Kokkos 3.4 exports CUDA::cuda_driver without a location and joins
# CUDA::cudart's include list with a newline; define both properly before it does.
if(NOT TARGET CUDA::cuda_driver)
  add_library(CUDA::cuda_driver UNKNOWN IMPORTED)
  set_target_properties(CUDA::cuda_driver PROPERTIES IMPORTED_LOCATION "$CUDADRV")
endif()
if(NOT TARGET CUDA::cudart)
  add_library(CUDA::cudart UNKNOWN IMPORTED)
  set_target_properties(CUDA::cudart PROPERTIES
    IMPORTED_LOCATION "$(ls /usr/local/cuda/targets/x86_64-linux/lib/libcudart.so | head -1)"
    INTERFACE_INCLUDE_DIRECTORIES "/usr/local/cuda/targets/x86_64-linux/include;/usr/local/cuda/targets/x86_64-linux/include/cccl")
endif()
EOT
cat /tmp/kfix $KC > /tmp/kc && cp /tmp/kc $KC; }
grep -n -A3 "CUDA::cudart PROPERTIES" $KC
cmake -S $D/src -B /tmp/pbuild -DCMAKE_CXX_COMPILER=$D/kokkos/bin/nvcc_wrapper \
  -DKokkos_ROOT=/tmp/kinstall -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$D/deps" -DCUDA_cuda_driver_LIBRARY=$CUDADRV \
  -DPINS_ENABLE_PETSC=OFF -DPINS_ENABLE_EXAMPLES=OFF -DPINS_HOST_ONLY_COMPILE_OPTIONS=--host-only -DCMAKE_BUILD_TYPE=Release > /tmp/pins.log 2>&1 &&
  cmake --build /tmp/pbuild -j$J --target pins_core_tests pins_surrogate_tests pins_training_tests bench_stencil bench_train_packed >> /tmp/pins.log 2>&1 ||
  { grep -m20 -E "error|Error" /tmp/pins.log; tail -30 /tmp/pins.log; exit 1; }
log "3. core tests on the GPU"
/tmp/pbuild/bin/pins_core_tests 2>&1 | tee $OUT/tests.log | tail -25
log "3b. surrogate tests (LibTorch 2.x build of the surrogates; tensors on the CPU)"
/tmp/pbuild/bin/pins_surrogate_tests 2>&1 | tee $OUT/surrogate_tests.log | tail -4
log "3c. -train_device cuda against the CPU for solution, preconditioner and smoother training (tests/training/test_device.cpp), then every trainer test (-train_device auto: cuda here)"
/tmp/pbuild/bin/pins_training_tests -tc='*device*,*GPU*,*predict*' 2>&1 | tee $OUT/training_device.log | tail -12
/tmp/pbuild/bin/pins_training_tests 2>&1 | tee $OUT/training_tests.log | tail -12
log "4. stencil benchmark on the GPU (and, at the end of each, the cost of a device-wide fence per kernel: issue 17 item 1)"
/tmp/pbuild/bin/bench_stencil 2>&1 | tee $OUT/bench.log
/tmp/pbuild/bin/bench_stencil -B 64 -n 512 2>&1 | tee -a $OUT/bench.log
if [ -f $D/data/train.pt ]; then
  # Issue 17 item 5: bench/run_fno85_accuracy.sh's recipe, more epochs (EPOCHS), on the GPU;
  # the history CSV and the model come back in $OUT even if the time limit stops it. Item 6:
  # then the model's answers per second for batches of 1, 10 and 100 (host to host and on
  # the GPU); PETSc's side is `pins evaluate -model fno85.pins -data <test set generated with
  # -ksp_type cg -pc_type hypre> -refine 0` here (its time to the model's error).
  log "5. FNO accuracy run on the GPU: ${EPOCHS:=200} epochs, at most ${TRAIN_SECONDS:=300} s"
  timeout $TRAIN_SECONDS /tmp/pbuild/bin/bench_train_packed -train $D/data/train.pt \
    -val $D/data/val.pt -test $D/data/test.pt -surrogate_type fno -fno_modes 12 -fno_width 32 \
    -fno_layers 4 -fno_padding 9 -train_epochs $EPOCHS -train_batch_size 20 -train_lr 1e-3 \
    -train_schedule cosine -train_weight_decay 1e-4 -train_augment symmetries \
    -train_log $OUT/fno85_history.csv -train_checkpoint /tmp/fno85.ckpt \
    -train_checkpoint_every 10 -o $OUT/fno85.pins 2>&1 | tee $OUT/fno85.log | tail -6
fi
log done
