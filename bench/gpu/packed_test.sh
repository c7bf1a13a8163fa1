#!/bin/bash
# ctest bench_train_packed_small: the GPU accuracy run's path on a small grid, on the CPU —
# pins generate (PETSc) -> pack_darcy.py -> bench_train_packed (pins::core) — and its
# refusals: a missing file, a file that is no packed set, an inputs-only dataset to pack.
#   packed_test.sh <bin folder> <source root>
set -u
BIN=$1
ROOT=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
cd "$W"
"$BIN/pins" generate -grid 12 -samples 16 -seed 1 -o train.h5 -progress 0 > gen.log 2>&1 || fail "generate train"
"$BIN/pins" generate -grid 12 -samples 6 -seed 2 -o test.h5 -progress 0 >> gen.log 2>&1 || fail "generate test"
"$BIN/pins" generate -grid 12 -samples 4 -seed 3 -inputs_only -o inputs.h5 -progress 0 >> gen.log 2>&1 || fail "generate inputs"
$PY "$ROOT/bench/gpu/pack_darcy.py" train.h5 train.pt || fail "pack train"
$PY "$ROOT/bench/gpu/pack_darcy.py" test.h5 test.pt -u_dtype float16 || fail "pack test"
out=$("$BIN/bench_train_packed" -train train.pt -test test.pt -train_epochs 2 -train_batch_size 4 \
      -fno_modes 4 -fno_width 8 -train_threads 1 -train_monitor 0 -infer_batches 1,8 \
      -o m.pins 2>&1) || fail "train: $out"
echo "$out"
echo "$out" | grep -q "test relative L2 (6 unseen samples): mean" || fail "no test error line"
echo "$out" | grep -q "inference, batch 8: .* answers/s from host to host" || fail "no throughput line"
grep -q '"inference_answers_per_second"' m.pins || fail "no throughput in the model's manifest"
[ -f m.pins ] || fail "no model file"
# The model file is a pins model: pins evaluate scores it on the HDF5 test set.
"$BIN/pins" evaluate -model m.pins -data test.h5 -o rep > eval.log 2>&1 || fail "evaluate: $(cat eval.log)"
# Refusals: one line naming the problem, exit 1, nothing written.
expect() {  # expect <text> <command...>
  local text=$1; shift
  local msg; msg=$("$@" 2>&1 >/dev/null); local rc=$?
  [ $rc -ne 0 ] || fail "expected a failure: $*"
  [ "$(echo "$msg" | grep -c .)" -eq 1 ] || fail "expected one line from $*, got: $msg"
  echo "$msg" | grep -qF -- "$text" || fail "expected '$text' from $*, got: $msg"
  echo "ok: $msg"
}
expect "-test 'none.pt': cannot open" "$BIN/bench_train_packed" -train train.pt -test none.pt
expect "-train 'train.h5': not a torch.save file" "$BIN/bench_train_packed" -train train.h5 -test test.pt
expect "-train <train.pt> and -test <test.pt> are required" "$BIN/bench_train_packed" -train train.pt
expect "-infer_batches: expected comma-separated batch sizes" "$BIN/bench_train_packed" \
  -train train.pt -test test.pt -infer_batches 1,x
expect "has no solutions u" $PY "$ROOT/bench/gpu/pack_darcy.py" inputs.h5 inputs.pt
[ ! -e inputs.pt ] || fail "a refused pack wrote inputs.pt"
ls "$W" | grep -q "^pack_" && fail "a temporary file was left behind"
echo "packed_test: all passed"
