#!/usr/bin/env python3
"""The surrogate PC and KSPGuess in a plain PETSc program (examples/plain_petsc_diffusion.c),
loaded with -dll_append as a user who has never linked pins would: it must cut iterations,
fall back safely when the network is broken or stalls or the KSP is not flexible, certify or
fall back in replace mode, and refuse bad input with a clear PETSc error (never a crash).

Usage: surrogate_pc_test.py --example EXE --library LIBPINS_PETSC --model PC.PINS
                            --workdir DIR [--mpiexec MPIEXEC --mpiexec-flag F ...] CASE
"""
import argparse
import hashlib
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_support import fail  # noqa: E402


def run(args, exe, *options, ranks=1):
    cmd = [exe, "-dll_append", args.library] + list(options)
    if ranks > 1:
        cmd = [args.mpiexec, "-n", str(ranks)] + args.mpiexec_flag + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def solve(args, *options, ranks=1):
    """Runs the example; returns (iterations, true relative residual, stdout)."""
    rc, out, err = run(args, args.example, "-ksp_rtol", "1e-8", "-ksp_converged_reason",
                       *options, ranks=ranks)
    if rc != 0:
        fail("solve %s failed (exit %d):\n%s%s" % (" ".join(options), rc, out, err))
    m = re.search(r"(\d+) iterations, true relative residual ([0-9.e+-]+)", out)
    if not m or "CONVERGED" not in out:
        fail("solve %s did not converge:\n%s" % (" ".join(options), out))
    return int(m.group(1)), float(m.group(2)), out


def expect_error(args, expected, *options):
    rc, out, err = run(args, args.example, *options)
    if rc == 0:
        fail("expected an error for %s" % " ".join(options))
    if rc < 0 or rc in (134, 139):
        fail("crashed (signal) for %s:\n%s" % (" ".join(options), err))
    if expected not in err:
        fail("error output for %s does not mention %r:\n%s" % (" ".join(options), expected, err))


def rewrite_model(src, dst, weights=None, manifest_edit=None):
    """Copies a pins model file, optionally replacing the weight bytes (with the SHA-256
    updated, so the file stays valid) or editing the manifest."""
    data = open(src, "rb").read()
    m_len, w_len = struct.unpack_from("<QQ", data, 16)
    manifest = json.loads(data[32:32 + m_len])
    w = data[32 + m_len:32 + m_len + w_len]
    if weights is not None:
        w = weights(w)
        manifest["weights"]["sha256"] = hashlib.sha256(w).hexdigest()
    if manifest_edit:
        manifest_edit(manifest)
    mb = json.dumps(manifest).encode()
    with open(dst, "wb") as f:
        f.write(data[:16] + struct.pack("<QQ", len(mb), len(w)) + mb + w)


def case_fewer_iterations(args):
    jac, _, _ = solve(args, "-ksp_type", "cg", "-pc_type", "jacobi")
    bare, res_bare, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                              "-pc_surrogate_model", args.model, "-pc_surrogate_smooth", "0")
    cyc, res_cyc, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                              "-pc_surrogate_model", args.model, "-ksp_view")
    print("CG + Jacobi %d, FGMRES + network %d, FGMRES + Jacobi/network/Jacobi %d" % (jac, bare, cyc))
    if not bare < jac or not cyc < jac:
        fail("the surrogate PC did not beat CG + Jacobi (%d): network only %d, cycle %d" % (jac, bare, cyc))
    if "pins surrogate: model" not in out or "FALLBACK ACTIVE" in out:
        fail("-ksp_view does not show the surrogate PC at work:\n" + out)
    if max(res_bare, res_cyc) > 2e-8:
        fail("true residual too large: %g, %g" % (res_bare, res_cyc))
    # PETSc's PCCOMPOSITE with the surrogate as one of its PCs (options under sub_0_).
    comp, _, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "composite",
                       "-pc_composite_type", "multiplicative", "-pc_composite_pcs", "surrogate,sor",
                       "-sub_0_pc_surrogate_model", args.model)
    print("FGMRES + composite(surrogate, SOR) %d" % comp)
    if not comp < jac:
        fail("PCCOMPOSITE with the surrogate took %d iterations, CG + Jacobi %d" % (comp, jac))


def case_mpi(args):
    one, _, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                      "-pc_surrogate_model", args.model)
    two, res, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                        "-pc_surrogate_model", args.model, ranks=2)
    print("1 process %d iterations, 2 processes %d" % (one, two))
    if abs(one - two) > 2:
        fail("2 processes took %d iterations, 1 process %d: the gathered grid differs" % (two, one))


def case_broken_model(args):
    nan = os.path.join(args.workdir, "nan.pins")
    rewrite_model(args.model, nan, weights=lambda w: struct.pack("<f", float("nan")) * (len(w) // 4))
    its, res, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                          "-pc_surrogate_model", nan, "-ksp_view")
    if "switched to the fallback PC jacobi: the network's output contains NaN or Inf" not in out:
        fail("a NaN network did not trigger the fallback message:\n" + out)
    if "FALLBACK ACTIVE" not in out:
        fail("-ksp_view does not show the active fallback:\n" + out)
    # A stall threshold no network meets: the window rule switches after 3 iterations.
    its, res, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model, "-pc_surrogate_stall", "1e-6",
                          "-pc_surrogate_window", "3")
    if "over the last 3 iterations, a ratio" not in out or res > 1e-8:
        fail("the stall rule did not switch to the fallback:\n" + out)
    # A non-flexible KSP: warned about and solved with the fallback.
    its, res, out = solve(args, "-ksp_type", "cg", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model)
    if "is not a flexible method" not in out:
        fail("CG with the surrogate PC gave no message:\n" + out)
    # The surrogate initial guess never hurts: same solver, no more iterations than from zero.
    zero, _, _ = solve(args, "-ksp_type", "cg", "-pc_type", "jacobi")
    guess, _, out = solve(args, "-ksp_type", "cg", "-pc_type", "jacobi", "-ksp_guess_type",
                          "surrogate", "-ksp_guess_surrogate_model", args.model)
    print("CG + Jacobi from zero %d, from the surrogate guess %d" % (zero, guess))
    if guess > zero:
        fail("the surrogate guess made CG + Jacobi slower: %d > %d" % (guess, zero))


def case_replace(args):
    # An unreachable certificate: the fallback KSP finishes the solve from the network's answer.
    its, res, out = solve(args, "-ksp_type", "preonly", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model, "-pc_surrogate_mode", "replace",
                          "-pc_surrogate_certify_rtol", "1e-8")
    if "surrogate answer not certified" not in out or out.count("not certified") != 1:
        fail("replace mode did not report its fallback exactly once:\n" + out)
    if res > 1.01e-8:
        fail("replace mode's fallback left a relative residual %g > 1e-8" % res)
    # A loose certificate: the network's answer is returned as it is.
    its, res, out = solve(args, "-ksp_type", "preonly", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model, "-pc_surrogate_mode", "replace",
                          "-pc_surrogate_certify_rtol", "0.999", "-ksp_view")
    if "not certified" in out or "certified 1, fell back 0" not in out:
        fail("a certifiable answer was not returned as it is:\n" + out)
    if not res <= 0.999:
        fail("certified answer has relative residual %g > 0.999" % res)


def last_certificate(out):
    m = re.search(r"certified (\d+), fell back (\d+) \(last certificate ([0-9.e+-]+)\)", out)
    if not m:
        fail("-ksp_view does not show the replace mode's certificate:\n" + out)
    return int(m.group(1)), int(m.group(2)), float(m.group(3))


def case_replace_refine(args):
    """-pc_surrogate_refine k: k multigrid V-cycles on the network's answer before the
    certificate. At a certificate the network alone misses, the refined answer is certified,
    with a residual below the network's, on one process and on two."""
    base = ["-ksp_type", "preonly", "-pc_type", "surrogate", "-pc_surrogate_model", args.model,
            "-pc_surrogate_mode", "replace", "-pc_surrogate_certify_rtol", "1e-6", "-ksp_view"]
    _, _, out = solve(args, *base)
    plain = last_certificate(out)
    _, res, out = solve(args, *base, "-pc_surrogate_refine", "12")
    refined = last_certificate(out)
    print("certificate: network %.3g, network + 12 V-cycles %.3g" % (plain[2], refined[2]))
    if plain[:2] != (0, 1):
        fail("the network alone met the certificate 1e-6; the test needs a case it misses")
    if "refined by 12 multigrid V-cycles" not in out:
        fail("-ksp_view does not show the refinement:\n" + out)
    if refined[:2] != (1, 0) or not refined[2] <= 1e-6 or not refined[2] < plain[2]:
        fail("12 V-cycles did not make the answer certifiable: %s vs %s" % (refined, plain))
    if not res <= 1e-6 or "not certified" in out:
        fail("the refined answer has true relative residual %g" % res)
    _, res2, out2 = solve(args, *base, "-pc_surrogate_refine", "12", ranks=2)
    two = last_certificate(out2)
    if two[:2] != (1, 0) or not res2 <= 1e-6:
        fail("on 2 processes the refined answer was not certified: %s, residual %g" % (two, res2))


def case_bad_input(args):
    sur = ["-ksp_type", "fgmres", "-pc_type", "surrogate"]
    expect_error(args, "needs a model: -pc_surrogate_model", *sur)
    expect_error(args, "-pc_surrogate_model", *sur, "-pc_surrogate_model", "/nonexistent/pc.pins")
    truncated = os.path.join(args.workdir, "truncated.pins")
    open(truncated, "wb").write(open(args.model, "rb").read()[:1000])
    expect_error(args, "truncated.pins", *sur, "-pc_surrogate_model", truncated)
    solution = os.path.join(args.workdir, "solution_task.pins")
    rewrite_model(args.model, solution, manifest_edit=lambda m: m.update(task="solution"))
    expect_error(args, "precondition", *sur, "-pc_surrogate_model", solution)
    expect_error(args, "needs a 5-point operator", *sur, "-pc_surrogate_model", args.model,
                 "-nine_point")
    expect_error(args, "-pc_surrogate_smooth must be in", *sur, "-pc_surrogate_model",
                 args.model, "-pc_surrogate_smooth", "-5")
    expect_error(args, "-pc_surrogate_certify_rtol must be in", *sur, "-pc_surrogate_model",
                 args.model, "-pc_surrogate_certify_rtol", "2")
    expect_error(args, "-pc_surrogate_threads must be >= 0", *sur, "-pc_surrogate_model",
                 args.model, "-pc_surrogate_threads", "-2")
    expect_error(args, "-pc_surrogate_window must be at least 1", *sur, "-pc_surrogate_model",
                 args.model, "-pc_surrogate_window", "0")
    expect_error(args, "-pc_surrogate_refine must be >= 0", "-ksp_type", "preonly", "-pc_type",
                 "surrogate", "-pc_surrogate_model", args.model, "-pc_surrogate_mode", "replace",
                 "-pc_surrogate_refine", "-1")
    expect_error(args, "-pc_surrogate_refine works in -pc_surrogate_mode replace", *sur,
                 "-pc_surrogate_model", args.model, "-pc_surrogate_refine", "2")
    expect_error(args, "-ksp_guess_surrogate_model", "-ksp_type", "cg", "-ksp_guess_type",
                 "surrogate", "-ksp_guess_surrogate_model", "/nonexistent/pc.pins")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--example", required=True)
    p.add_argument("--library", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--mpiexec-flag", action="append", default=[])
    p.add_argument("case")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    globals()["case_" + args.case](args)
    print("PASS " + args.case)


if __name__ == "__main__":
    main()
