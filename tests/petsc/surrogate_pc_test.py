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
    # Oversubscribed runs (more processes than cores): one OpenMP/LibTorch thread each.
    env = dict(os.environ, OMP_NUM_THREADS="1") if ranks > 2 else None
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    return p.returncode, p.stdout, p.stderr


RTOL = 1e-8


def solve(args, *options, ranks=1):
    """Runs the example; returns (iterations, true relative residual, stdout). Fails unless
    the KSP converged (a positive reason) with a true relative residual <= 10 rtol."""
    rc, out, err = run(args, args.example, "-ksp_rtol", str(RTOL), "-ksp_converged_reason",
                       *options, ranks=ranks)
    if rc != 0:
        fail("solve %s failed (exit %d):\n%s%s" % (" ".join(options), rc, out, err))
    m = re.search(r"(\d+) iterations, true relative residual ([0-9.e+-]+)", out)
    if not m or "Linear solve converged due to CONVERGED_" not in out:
        fail("solve %s did not converge:\n%s" % (" ".join(options), out))
    its, res = int(m.group(1)), float(m.group(2))
    if not res <= 10 * RTOL and "-pc_surrogate_mode" not in options:
        fail("solve %s converged with a true relative residual %g > 10 rtol:\n%s"
             % (" ".join(options), res, out))
    return its, res, out


def switch_iteration(out, fallback="gamg"):
    """The Krylov iteration of the one switch to the fallback the PC printed."""
    found = re.findall(r"switched to the fallback PC %s after (\d+) Krylov iterations" % fallback, out)
    if len(found) != 1:
        fail("expected one switch to the fallback PC %s, found %d:\n%s" % (fallback, len(found), out))
    return int(found[0])


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


def monitor(out):
    """The -ksp_monitor residual norms of a run."""
    return [float(x) for x in re.findall(r"KSP Residual norm ([0-9.e+-]+)", out)]


def case_mpi(args):
    one, _, out1 = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                         "-pc_surrogate_model", args.model, "-ksp_view")
    two, res, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model, "-ksp_view", ranks=2)
    print("1 process %d iterations, 2 processes %d" % (one, two))
    if abs(one - two) > 1:
        fail("2 processes took %d iterations, 1 process %d" % (two, one))
    # On several processes an MgNet runs as distributed matrices (no grid on rank 0).
    if "applied as distributed matrices" not in out:
        fail("-ksp_view on 2 processes does not show the MgNet applied as matrices:\n" + out)
    # Its operator flag is reduced over the processes: the score of the whole grid.
    if operator_score(out1) != operator_score(out):
        fail("operator score %s on 1 process, %s on 2" % (operator_score(out1), operator_score(out)))
    # The matrices on the network's own (scaled) hierarchy are the network's cycle: on one
    # process the residual histories of both agree to the network's float32 rounding,
    # iteration by iteration.
    sur = ["-ksp_type", "fgmres", "-pc_type", "surrogate", "-pc_surrogate_model", args.model,
           "-ksp_monitor", "-da_grid_x", "45", "-da_grid_y", "38"]
    scaled = ["-pc_surrogate_galerkin", "scaled"]
    _, _, net = solve(args, *sur, "-pc_surrogate_cycle", "network")
    _, _, mat = solve(args, *sur, *scaled, "-pc_surrogate_cycle", "matrices")
    _, _, mat3 = solve(args, *sur, *scaled, ranks=3)
    _, _, net2 = solve(args, *sur, "-pc_surrogate_cycle", "network", ranks=2)
    hn, hm, h3, h2 = monitor(net), monitor(mat), monitor(mat3), monitor(net2)
    if not len(hn) == len(hm) == len(h3) == len(h2) or len(hn) < 4:
        fail("residual histories of different lengths: network %d, matrices %d, 3 processes %d, "
             "network on 2 processes %d" % (len(hn), len(hm), len(h3), len(h2)))
    worst = max(abs(a - b) / b for a, b in zip(hn, hm))
    worst3 = max(abs(a - b) / b for a, b in zip(hm, h3))
    print("45 x 38: network vs matrices %.2g, matrices on 1 vs 3 processes %.2g" % (worst, worst3))
    if worst > 1e-4 or worst3 > 1e-6:
        fail("the matrices' cycle is not the network's: residual histories differ by %.3g "
             "(network vs matrices) and %.3g (1 vs 3 processes)" % (worst, worst3))
    # 4 processes (oversubscribed: correctness only) on a grid that does not split evenly
    # (67 x 61 over a 2 x 2 process grid: 34/33 by 31/30 cells).
    uneven = ["-da_grid_x", "67", "-da_grid_y", "61"]
    one, _, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                      "-pc_surrogate_model", args.model, *uneven)
    four, _, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                       "-pc_surrogate_model", args.model, *uneven, ranks=4)
    print("67 x 61: 1 process %d iterations, 4 processes %d" % (one, four))
    if abs(one - four) > 1:
        fail("4 processes took %d iterations on 67 x 61, 1 process %d" % (four, one))
    # NaN weights on 2 processes: the matrices carry the NaN into the output, and the PC
    # switches to its fallback on every process alike.
    its, _, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                        "-pc_surrogate_model", nan_model(args), ranks=2)
    if "the network's output contains NaN or Inf" not in out or switch_iteration(out) != 0:
        fail("NaN weights on 2 processes did not switch to the fallback:\n" + out)


def nan_model(args):
    nan = os.path.join(args.workdir, "nan.pins")
    rewrite_model(args.model, nan, weights=lambda w: struct.pack("<f", float("nan")) * (len(w) // 4))
    return nan


def case_broken_model(args):
    nan = nan_model(args)
    its, res, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                          "-pc_surrogate_model", nan, "-ksp_view")
    if "the network's output contains NaN or Inf" not in out or switch_iteration(out) != 0:
        fail("a NaN network did not trigger the fallback message:\n" + out)
    if "FALLBACK ACTIVE (PC gamg)" not in out:
        fail("-ksp_view does not show the active fallback:\n" + out)
    # A stall threshold no network meets: the window rule switches after 3 iterations.
    its, res, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model, "-pc_surrogate_stall", "1e-6",
                          "-pc_surrogate_window", "3")
    if "over the last 3 iterations, a ratio" not in out or switch_iteration(out) != 3:
        fail("the stall rule did not switch to the fallback:\n" + out)
    # -pc_surrogate_fallback chooses another PC.
    its, res, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model, "-pc_surrogate_stall", "1e-6",
                          "-pc_surrogate_window", "3", "-pc_surrogate_fallback", "sor")
    switch_iteration(out, "sor")
    # A non-flexible KSP: warned about and solved with the fallback.
    its, res, out = solve(args, "-ksp_type", "cg", "-pc_type", "surrogate",
                          "-pc_surrogate_model", args.model, "-ksp_norm_type", "unpreconditioned")
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


def fallback_alone(args, *options):
    """Iterations of FGMRES with the default fallback PC alone on the same problem."""
    its, _, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "gamg", *options)
    return its


def case_safety_net(args):
    """The worst cases must end in a converged solve, not only in a message: a forced stall
    (switch mid-solve), NaN weights (switch at the first application, in precondition and
    in replace mode), a Krylov method the network makes fail (CG on an indefinite
    application), and operators far outside the training data. A switch mid-solve
    restarts the Krylov method, so it costs at most the iterations before the switch plus
    about what the fallback needs alone."""
    sur = ["-ksp_type", "fgmres", "-pc_type", "surrogate", "-pc_surrogate_model", args.model]
    alone = fallback_alone(args)
    its, res, out = solve(args, *sur, "-pc_surrogate_stall", "1e-6", "-pc_surrogate_window", "2",
                          "-ksp_view")
    k = switch_iteration(out)
    print("stall: switched after %d iterations, %d in all; FGMRES + GAMG alone %d" % (k, its, alone))
    if "(the Krylov method restarts from there)" not in out or ", 1 restarts:" not in out:
        fail("a switch mid-solve did not restart the Krylov method:\n" + out)
    if its > k + alone + 2:
        fail("after the switch at iteration %d the solve took %d iterations, more than %d + "
             "FGMRES + GAMG alone (%d) + 2" % (k, its, k, alone))
    # The same with GCR, the other flexible method the PC is meant for.
    gcr, res, out = solve(args, "-ksp_type", "gcr", *sur[2:], "-pc_surrogate_stall", "1e-6",
                          "-pc_surrogate_window", "2")
    print("stall in GCR: switched after %d iterations, %d in all" % (switch_iteration(out), gcr))
    nan = nan_model(args)
    its, res, out = solve(args, *sur[:-1], nan)
    print("NaN weights: %d iterations" % its)
    if switch_iteration(out) != 0 or its > alone + 2:
        fail("with NaN weights the solve took %d iterations, FGMRES + GAMG alone %d" % (its, alone))
    # Replace mode (preonly): a switch must still give a solved system, not one application.
    its, res, out = solve(args, "-ksp_type", "preonly", "-pc_type", "surrogate",
                          "-pc_surrogate_model", nan, "-pc_surrogate_mode", "replace",
                          "-pc_surrogate_certify_rtol", "1e-8")
    print("NaN weights, replace mode: true relative residual %.3g" % res)
    if not res <= 1.01e-8:
        fail("replace mode with NaN weights left a relative residual %g > 1e-8:\n%s" % (res, out))
    # A Krylov method the network makes fail: CG kept on the network by
    # -pc_surrogate_allow_nonflexible meets an indefinite application on a 1:10^4 contrast
    # (measured: DIVERGED_INDEFINITE_PC at iteration 2 before the PC caught it). The pass
    # ends, the PC switches and CG restarts with the fallback: a converged solve.
    cg = ["-ksp_type", "cg", "-ksp_norm_type", "unpreconditioned", "-kappa_contrast", "1e4",
          "-da_grid_x", "65", "-da_grid_y", "65"]
    its, res, out = solve(args, *cg, *sur[2:], "-pc_surrogate_allow_nonflexible")
    k = switch_iteration(out)
    cg_alone, _, _ = solve(args, *cg, "-pc_type", "gamg")
    print("CG kept on the network at 1:1e4: switched after %d iterations (%s), %d in all; "
          "CG + GAMG alone %d" % (k, "indefinite" if "DIVERGED_INDEFINITE_PC" in out else "stall",
                                  its, cg_alone))
    if "(the Krylov method restarts from there)" not in out:
        fail("a pass the network made fail did not restart the Krylov method:\n" + out)
    if its > k + 1 + cg_alone + 2:
        fail("after the switch at iteration %d CG took %d iterations in all, CG + GAMG alone %d"
             % (k, its, cg_alone))
    # Out of distribution: a 1:10^8 contrast on a grid twice as fine as the model's.
    ood = ["-kappa_contrast", "1e8", "-da_grid_x", "65", "-da_grid_y", "65"]
    its, res, out = solve(args, *sur, *ood)
    alone = fallback_alone(args, *ood)
    print("1:1e8 contrast on 65 x 65: %d iterations (residual %.3g); FGMRES + GAMG alone %d"
          % (its, res, alone))
    if "switched to the fallback" in out and its > switch_iteration(out) + alone + 2:
        fail("out of distribution, the switch at iteration %d led to %d iterations"
             % (switch_iteration(out), its))


def case_replace_amat_pmat(args):
    """With Amat != Pmat (the example's -pmat_diagonal_shift: P = A + 0.5 diag(A)), replace
    mode certifies against Amat: an answer refined to 1e-7 against P is not an answer for A.
    The certificate shown equals the example's true residual against A, and the fallback
    solve reaches the certificate against A."""
    base = ["-ksp_type", "preonly", "-pc_type", "surrogate", "-pc_surrogate_model", args.model,
            "-pc_surrogate_mode", "replace", "-pc_surrogate_refine", "12",
            "-pmat_diagonal_shift", "0.5", "-ksp_view"]
    _, res, out = solve(args, *base, "-pc_surrogate_certify_rtol", "0.999")
    cert = last_certificate(out)
    print("P = A + 0.5 diag(A): certificate %.4g, true residual against A %.4g" % (cert[2], res))
    if abs(cert[2] - res) > 1e-3 * res or not res > 1e-3:
        fail("the certificate %g is not the true residual against Amat %g" % (cert[2], res))
    _, res, out = solve(args, *base, "-pc_surrogate_certify_rtol", "1e-6")
    if last_certificate(out)[:2] != (0, 1) or "not certified" not in out or not res <= 1.01e-6:
        fail("replace mode with Amat != Pmat left a true residual %g (certificate 1e-6):\n%s"
             % (res, out))
    # Precondition mode converges on A too.
    solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate", "-pc_surrogate_model",
          args.model, "-pmat_diagonal_shift", "0.5")


def case_one_process_fails(args):
    """The model file is readable on process 0 and missing on process 1 (an MPMD launch gives
    them different options): both must stop with the same error, never hang."""
    common = ["-dll_append", args.library, "-ksp_type", "fgmres", "-pc_type", "surrogate"]
    cmd = ([args.mpiexec] + args.mpiexec_flag + ["-n", "1", args.example] + common
           + ["-pc_surrogate_model", args.model, ":", "-n", "1", args.example] + common
           + ["-pc_surrogate_model", "/nonexistent/on/this/node.pins"])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        fail("a set-up failure on one process of two hung (killed after 120 s)")
    if p.returncode == 0:
        fail("a missing model file on process 1 did not fail the run:\n" + p.stdout + p.stderr)
    # Process 0, whose file is fine, stops with process 1's error (PETSc then aborts the
    # job, so process 1's own copy of the message may not get printed).
    if not re.search(r"\[0\]PETSC ERROR: -pc_surrogate_model: on process 1 of 2: .*node\.pins",
                     p.stderr):
        fail("process 0 did not stop with the error of process 1:\n" + p.stderr)


def case_log_view(args):
    _, _, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                      "-pc_surrogate_model", args.model, "-log_view")
    for event in ("PinsSurrSetUp", "PinsSurrInfer", "PinsSurrApply"):
        if not re.search(r"^%s +[1-9]" % event, out, re.M):
            fail("-log_view does not show the event %s:\n%s" % (event, out))


def case_newton(args):
    """Inside SNES the Jacobian keeps its matrix and pattern from one Newton step to the next:
    the MgNet's distributed matrices change values only (`-pc_surrogate_matrices_reuse`,
    on by default), and the solves must be the ones a full rebuild gives, step by step."""
    base = ["-dll_append", args.library, "-da_grid_x", "40", "-da_grid_y", "34", "-f_value", "20",
            "-snes_rtol", "1e-9", "-ksp_type", "fgmres", "-ksp_rtol", "1e-8", "-pc_type",
            "surrogate", "-pc_surrogate_model", args.model, "-pc_surrogate_cycle", "matrices",
            "-ksp_monitor", "-snes_converged_reason", "-snes_view"]

    def newton(*extra):
        cmd = [args.mpiexec, "-n", "2"] + args.mpiexec_flag + [args.nonlinear_example] + base + list(extra)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if p.returncode != 0 or "Nonlinear solve converged" not in p.stdout:
            fail("SNES with the surrogate PC %s failed (exit %d):\n%s%s"
                 % (" ".join(extra), p.returncode, p.stdout, p.stderr))
        m = re.search(r"(\d+) set-up\(s\), (\d+) of them values only(?: \(reuse off\))?, "
                      r"(\d+) without the network", p.stdout)
        if not m:
            fail("-snes_view does not count the matrices' set-ups:\n" + p.stdout)
        steps = int(re.search(r"(\d+) Newton iterations", p.stdout).group(1))
        return steps, int(m.group(1)), int(m.group(2)), int(m.group(3)), monitor(p.stdout)

    steps, builds, reuses, _, h = newton()
    steps0, builds0, reuses0, _, h0 = newton("-pc_surrogate_matrices_reuse", "0")
    print("Newton steps %d: %d set-ups, %d values only; without reuse %d set-ups, %d values only"
          % (steps, builds, reuses, builds0, reuses0))
    if steps < 3 or builds != steps or reuses != builds - 1 or reuses0 != 0 or builds0 != builds:
        fail("expected one set-up per Newton step (%d), all but the first values only, and none "
             "values only with reuse off: got %d/%d and %d/%d" % (steps, builds, reuses, builds0, reuses0))
    if len(h) != len(h0) or steps0 != steps:
        fail("reuse changed the solves: %d Krylov residuals in %d steps against %d in %d"
             % (len(h), steps, len(h0), steps0))
    worst = max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(h, h0))
    print("Krylov residual histories with and without reuse: worst relative difference %.2e" % worst)
    if worst > 1e-10:
        fail("the values-only set-up differs from a full one: relative difference %g" % worst)
    # -snes_lag_preconditioner 2: the PC is set up on every other Newton step only.
    steps2, builds2, reuses2, _, _ = newton("-snes_lag_preconditioner", "2")
    if builds2 != (steps2 + 1) // 2 or reuses2 != builds2 - 1:
        fail("-snes_lag_preconditioner 2 over %d Newton steps: expected %d set-ups, got %d (%d values only)"
             % (steps2, (steps2 + 1) // 2, builds2, reuses2))
    # -pc_surrogate_network_lag beyond the Newton steps: the network at the first set-up only;
    # the later ones keep its smoothers and P and take each new Jacobian's values. The first
    # solve is the one without lag; the later ones differ (another cycle) but must cost at most
    # one more Krylov iteration per Newton step, with the same Newton steps.
    stepsL, buildsL, reusesL, lagsL, hL = newton("-pc_surrogate_network_lag", "100")
    print("network lag 100: %d Newton steps, %d set-ups, %d without the network; %d Krylov "
          "iterations against %d without lag" % (stepsL, buildsL, lagsL, len(hL) - stepsL, len(h) - steps))
    if buildsL != stepsL or reusesL != buildsL - 1 or lagsL != buildsL - 1:
        fail("-pc_surrogate_network_lag 100 over %d Newton steps: expected the network at the first "
             "of %d set-ups only, got %d set-ups, %d without the network" % (stepsL, stepsL, buildsL, lagsL))
    if stepsL != steps:
        fail("the network lag changed the Newton steps: %d against %d" % (stepsL, steps))
    n1 = next(i for i in range(1, len(h)) if h[i] > h[i - 1])  # the first solve's length
    if any(abs(a - b) > 1e-10 * abs(b) for a, b in zip(hL[:n1], h[:n1])):
        fail("the first solve (the network's own set-up) differs with the lag")
    if all(abs(a - b) <= 1e-12 * abs(b) for a, b in zip(hL[n1:], h[n1:])):
        fail("the lagged set-ups gave the same solves as the network's: was the lag applied?")
    if len(hL) - stepsL > len(h) - steps + steps:
        fail("the network lag cost more than one Krylov iteration per Newton step: %d against %d"
             % (len(hL) - stepsL, len(h) - steps))


def ksp_view_field(out, pattern, what):
    """The groups of `pattern` in a run's -ksp_view output; fails naming `what` if absent."""
    m = re.search(pattern, out)
    if not m:
        fail("-ksp_view does not show %s:\n%s" % (what, out))
    return m.groups()


def last_certificate(out):
    c, f, last = ksp_view_field(out, r"certified (\d+), fell back (\d+) \(last certificate "
                                r"([0-9.e+-]+)\)", "the replace mode's certificate")
    return int(c), int(f), float(last)


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


def operator_score(out):
    return float(ksp_view_field(out, r"operator score ([0-9.e+-]+|inf) \(> 1: unlike the "
                                r"training operators\)", "the operator score")[0])


def case_operator_flag(args):
    """The operator flag fitted at training time (metrics.operator_flag): replace mode solves
    without the network and the guess starts from zero for a flagged operator, said once;
    -pc_surrogate_operator_check 0 / -ksp_guess_surrogate_operator_check 0 try the network
    all the same; a model without the flag never skips; a damaged flag is a clear error. The
    flag's threshold is rewritten here to force both outcomes on the same operator (how well
    the score separates operators is measured by pins bench, bench/RESULTS.md)."""
    manifest = json.loads(open(args.model, "rb").read()[32:32 + struct.unpack_from(
        "<Q", open(args.model, "rb").read(), 16)[0]])
    flag = manifest["metrics"].get("operator_flag")
    if not flag or len(flag["centre"]) != 16 or not flag["threshold"] > 0 or \
            flag["samples"] != 256:
        fail("pins train -task precondition stored no operator flag: %s" % flag)
    def with_threshold(t):
        def edit(m):
            m["metrics"]["operator_flag"]["threshold"] = t
        return edit
    strict = os.path.join(args.workdir, "strict.pins")  # flags every operator
    rewrite_model(args.model, strict, manifest_edit=with_threshold(1e-9))
    lax = os.path.join(args.workdir, "lax.pins")        # flags none
    rewrite_model(args.model, lax, manifest_edit=with_threshold(1e9))
    unflagged = os.path.join(args.workdir, "no_flag.pins")
    rewrite_model(args.model, unflagged, manifest_edit=lambda m: m["metrics"].pop("operator_flag"))
    replace = ["-ksp_type", "preonly", "-pc_type", "surrogate", "-pc_surrogate_mode", "replace",
               "-pc_surrogate_certify_rtol", "1e-8", "-ksp_view", "-pc_surrogate_model"]
    _, res, out = solve(args, *replace, strict)
    score = operator_score(out)
    print("strict flag: operator score %.3g; replace mode solved without the network" % score)
    if not score > 1 or out.count("unlike those the surrogate was trained on") != 1 or \
            "network steps 0" not in out or "solved without the network 1 " not in out:
        fail("a flagged operator was not solved without the network, said once:\n" + out)
    if not res <= 1.01e-8 or "not certified" in out:
        fail("the flagged operator's solve left a relative residual %g:\n%s" % (res, out))
    _, res, out = solve(args, *replace, strict, "-pc_surrogate_operator_check", "0")
    if "unlike those" in out or "network steps 1" not in out or "check off" not in out:
        fail("-pc_surrogate_operator_check 0 did not try the network:\n" + out)
    for model, what in ((lax, "lax flag"), (args.model, "trained flag")):
        _, _, out = solve(args, *replace, model)
        score = operator_score(out)
        skipped = "unlike those" in out
        print("%s: operator score %.3g, network %s" % (what, score,
                                                       "skipped" if skipped else "tried"))
        if skipped != (score > 1) or (model == lax and skipped):
            fail("operator score %.3g but the network was %s (%s):\n%s"
                 % (score, "skipped" if skipped else "tried", what, out))
    # The score of the cycle as matrices comes from statistics each process reduces over its
    # own rows (SurrogateStep::local_couplings); the network's from operator_statistics on the
    # gathered stencil. The same operator must get the same score (6 digits) either way, on
    # one process or two.
    scores = {}
    for cycle, ranks in (("network", 1), ("matrices", 1), ("matrices", 2)):
        _, _, out = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate", "-pc_surrogate_model",
                          args.model, "-pc_surrogate_cycle", cycle, "-ksp_view", ranks=ranks)
        scores["%s on %d" % (cycle, ranks)] = operator_score(out)
    print("operator score: %s" % ", ".join("%s %.6g" % kv for kv in scores.items()))
    if len(set(scores.values())) != 1:
        fail("the operator score depends on the cycle or the process count: %s" % scores)
    _, _, out = solve(args, *replace, unflagged)
    if "no operator flag in the model" not in out or "network steps 1" not in out:
        fail("a model without an operator flag did not use its network:\n" + out)
    # The guess: a flagged operator starts from zero, as without a guess.
    guess = ["-ksp_type", "cg", "-pc_type", "jacobi", "-ksp_view", "-ksp_guess_type",
             "surrogate", "-ksp_guess_surrogate_model"]
    zero, _, _ = solve(args, "-ksp_type", "cg", "-pc_type", "jacobi")
    its, _, out = solve(args, *guess, strict)
    if its != zero or out.count("starting from zero without the network") != 1 or \
            "1 zero guesses instead of the network" not in out:
        fail("the guess for a flagged operator was not zero (%d vs %d iterations):\n%s"
             % (its, zero, out))
    its, _, out = solve(args, *guess, strict, "-ksp_guess_surrogate_operator_check", "0")
    if "starting from zero" in out or "0 zero guesses" not in out or "check off" not in out:
        fail("-ksp_guess_surrogate_operator_check 0 did not use the network:\n" + out)
    # A damaged flag: a clear error naming it, not a crash.
    bad = os.path.join(args.workdir, "bad_flag.pins")
    rewrite_model(args.model, bad, manifest_edit=with_threshold(-1))
    expect_error(args, "metrics.operator_flag.threshold", *replace[:-2], "-pc_surrogate_model",
                 bad)


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
    expect_error(args, "-pc_surrogate_network_lag must be at least 1", *sur, "-pc_surrogate_model",
                 args.model, "-pc_surrogate_network_lag", "0")
    expect_error(args, "-pc_surrogate_true_residual_passes must be in [0, 100]", *sur,
                 "-pc_surrogate_model", args.model, "-pc_surrogate_true_residual_passes", "-1")
    expect_error(args, "-pc_surrogate_refine must be >= 0", "-ksp_type", "preonly", "-pc_type",
                 "surrogate", "-pc_surrogate_model", args.model, "-pc_surrogate_mode", "replace",
                 "-pc_surrogate_refine", "-1")
    expect_error(args, "-pc_surrogate_refine works in -pc_surrogate_mode replace", *sur,
                 "-pc_surrogate_model", args.model, "-pc_surrogate_refine", "2")
    expect_error(args, "-ksp_guess_surrogate_model", "-ksp_type", "cg", "-ksp_guess_type",
                 "surrogate", "-ksp_guess_surrogate_model", "/nonexistent/pc.pins")
    expect_error(args, "-pc_surrogate_cycle", *sur, "-pc_surrogate_model", args.model,
                 "-pc_surrogate_cycle", "sideways")
    # Only an MgNet runs as matrices; a network that needs the whole grid says so.
    fno = os.path.join(args.workdir, "fno16.pins")
    p = subprocess.run([args.pins, "train", "-task", "precondition", "-grid", "16",
                        "-train_steps", "2", "-train_batch_size", "2", "-surrogate_type", "fno",
                        "-train_threads", "1", "-force", "-o", fno],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        fail("training a small FNO preconditioner failed:\n" + p.stdout + p.stderr)
    expect_error(args, "needs an mgnet model", *sur, "-pc_surrogate_model", fno,
                 "-pc_surrogate_cycle", "matrices")
    expect_error(args, "not an mgnet", *sur, "-pc_surrogate_model", fno,
                 "-pc_surrogate_galerkin", "symmetric")
    expect_error(args, "-pc_surrogate_galerkin", *sur, "-pc_surrogate_model", args.model,
                 "-pc_surrogate_galerkin", "sideways")
    expect_error(args, "use -pc_surrogate_cycle matrices or auto", *sur, "-pc_surrogate_model",
                 args.model, "-pc_surrogate_galerkin", "symmetric", "-pc_surrogate_cycle",
                 "network")


def true_residual_passes(out):
    """The -ksp_view count of passes the true-residual check added."""
    return int(ksp_view_field(out, r"true-residual check: (\d+) more pass",
                              "the true-residual check")[0])


def case_true_residual(args):
    """FGMRES's residual estimate can say converged while the true residual is above the
    tolerance (high contrast, the network's directions): measured on this 257 x 257, 1:10^4
    problem with the test model and the network's own cycle (its scaled hierarchy; the
    default, A's own, converges in 12 iterations without the drift), 2.9e-8 against rtol 1e-8.
    The PC checks the true residual when the method stops and goes on from the iterate; with
    the check off the gap shows."""
    sur = ["-ksp_type", "fgmres", "-ksp_gmres_restart", "200", "-pc_type", "surrogate",
           "-pc_surrogate_model", args.model, "-pc_surrogate_window", "200",
           "-pc_surrogate_cycle", "network",
           "-kappa_contrast", "1e4", "-da_grid_x", "257", "-da_grid_y", "257", "-ksp_view"]
    its_off, res_off, out_off = solve(args, *sur, "-pc_surrogate_true_residual_passes", "0")
    its_on, res_on, out_on = solve(args, *sur)
    print("check off: %d iterations, true relative residual %.3g; on: %d iterations, %.3g, "
          "%d more pass(es)" % (its_off, res_off, its_on, res_on, true_residual_passes(out_on)))
    if true_residual_passes(out_off) != 0:
        fail("-pc_surrogate_true_residual_passes 0 still added passes:\n" + out_off)
    if not res_off > RTOL:
        fail("the scenario no longer shows FGMRES's estimate drifting from the true residual "
             "(%.3g <= rtol without the check): the test needs another problem" % res_off)
    if not res_on <= RTOL:
        fail("with the check the true relative residual is %.3g > rtol %g:\n%s"
             % (res_on, RTOL, out_on))
    if true_residual_passes(out_on) < 1 or its_on <= its_off:
        fail("the check reached rtol without a pass of its own (%d -> %d iterations)"
             % (its_off, its_on))
    # On a problem without the drift the check costs nothing: the same iterations.
    easy = ["-ksp_type", "fgmres", "-pc_type", "surrogate", "-pc_surrogate_model", args.model,
            "-ksp_view"]
    its_a, _, out_a = solve(args, *easy, "-pc_surrogate_true_residual_passes", "0")
    its_b, _, out_b = solve(args, *easy)
    if its_a != its_b or true_residual_passes(out_b) != 0:
        fail("without a drift the check changed the solve: %d -> %d iterations" % (its_a, its_b))


def pieces_case(args, name, network_options):
    """Trains a small preconditioner of the architecture in `network_options` (150 steps),
    then solves the same 65^2 problem on 1, 2 and 3 processes (3 split 65 unevenly): on
    several processes the network runs on every process's part of the grid (no gather), and
    being the same network it must give the same iterations and true residual as on one
    process, where it runs on the whole grid. NaN weights on 2 processes: every process sees
    the NaN (the exchanges carry it) and the PC switches to its fallback at once on all."""
    model = os.path.join(args.workdir, name + ".pins")
    p = subprocess.run([args.pins, "train", "-task", "precondition", "-grid", "32",
                        "-train_steps", "150", "-train_batch_size", "4"] + network_options +
                       ["-train_threads", "1", "-force", "-o", model],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        fail("training a small %s preconditioner failed:\n%s%s" % (name, p.stdout, p.stderr))
    base = ["-ksp_type", "fgmres", "-ksp_gmres_restart", "200", "-pc_type", "surrogate",
            "-da_grid_x", "65", "-da_grid_y", "65", "-ksp_view"]
    runs = {ranks: solve(args, *base, "-pc_surrogate_model", model, ranks=ranks)
            for ranks in (1, 2, 3)}
    for ranks, (its, res, out) in runs.items():
        print("%s preconditioner on %d process(es): %d iterations, true relative residual %.4e"
              % (name, ranks, its, res))
        where = ("on rank 0 (whole grid)" if ranks == 1 else
                 "each on its own part of the grid (no gather)")
        if where not in out:
            fail("%d process(es): -ksp_view does not say '%s':\n%s" % (ranks, where, out))
        if "switched to the fallback" in out:
            fail("%d process(es): the PC left the network:\n%s" % (ranks, out))
    its_1, res_1, _ = runs[1]
    for ranks in (2, 3):
        its, res, _ = runs[ranks]
        if its != its_1 or abs(res - res_1) > 1e-3 * res_1:
            fail("the %s on %d processes took %d iterations to %.6e, on one %d to %.6e" %
                 (name, ranks, its, res, its_1, res_1))
    nan = os.path.join(args.workdir, name + "_nan.pins")
    rewrite_model(model, nan, weights=lambda w: struct.pack("<f", float("nan")) * (len(w) // 4))
    _, _, out = solve(args, *base, "-pc_surrogate_model", nan, ranks=2)
    if "the network's output contains NaN or Inf" not in out or switch_iteration(out) != 0:
        fail("NaN weights in the %s on 2 processes did not switch to the fallback:\n%s"
             % (name, out))
    return model


def case_fno_pieces(args):
    """An FNO preconditioner on several processes (FNOImpl::forward_piece: one all-reduce of
    the kept frequencies per Fourier layer, no gather)."""
    pieces_case(args, "fno", ["-surrogate_type", "fno", "-fno_width", "12", "-fno_modes", "8",
                              "-fno_layers", "3", "-fno_hidden", "32"])


def case_unet_pieces(args):
    """A U-Net preconditioner on several processes (UNetImpl::forward_piece: one-cell halos
    between neighbouring processes for its convolutions, all-reduces for its GroupNorms, on
    boxes aligned to its pooling: the 65-point axes split 33/32 by the DMDA become 32/33).
    A grid with fewer blocks than processes along an axis is refused by name."""
    model = pieces_case(args, "unet", ["-surrogate_type", "unet", "-unet_channels", "8",
                                       "-unet_levels", "3"])
    rc, out, err = run(args, args.example, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                       "-pc_surrogate_model", model, "-da_grid_x", "4", "-da_grid_y", "8",
                       "-da_processors_x", "2", "-da_processors_y", "2", ranks=4)
    if rc == 0 or "has fewer such blocks than the 2 x 2 processes" not in out + err:
        fail("a 4 x 8 grid on 2 x 2 processes with a 3-level U-Net (blocks of 4) was not "
             "refused by name:\n" + out + err)


def case_galerkin(args):
    """The cycle's coarse operators from A itself (-pc_surrogate_galerkin symmetric) instead
    of the network's row-scaled D^-1 A: at 1:10^4 the scaled ones weight coarse residuals by
    1/kappa and the cycle loses most of its coarse correction (measured with the test model
    at 257^2: 23 iterations scaled, 12 symmetric, on 1, 2 and 3 processes alike)."""
    sur = ["-ksp_type", "fgmres", "-ksp_gmres_restart", "200", "-pc_type", "surrogate",
           "-pc_surrogate_model", args.model, "-pc_surrogate_window", "200",
           "-kappa_contrast", "1e4", "-da_grid_x", "257", "-da_grid_y", "257", "-ksp_view"]
    its_scaled, _, _ = solve(args, *sur, "-pc_surrogate_cycle", "matrices",
                             "-pc_surrogate_galerkin", "scaled")
    # The default (auto) is A's own hierarchy as matrices on any number of processes, so the
    # iterations do not depend on it; -pc_surrogate_cycle network keeps the network's own.
    for ranks in (1, 2):
        its_auto, _, out_auto = solve(args, *sur, ranks=ranks)
        if "coarse operators from A)" not in out_auto or its_auto > 0.75 * its_scaled:
            fail("on %d process(es) the default is not the symmetric hierarchy (%d iterations):"
                 "\n%s" % (ranks, its_auto, out_auto))
    _, _, out_net = solve(args, *sur, "-pc_surrogate_cycle", "network")
    if "applied by the network on rank 0" not in out_net:
        fail("-pc_surrogate_cycle network does not run the network's own cycle:\n" + out_net)
    # auto takes the matrices on one process too when the hierarchy is A's own.
    its_1, _, out_1 = solve(args, *sur, "-pc_surrogate_galerkin", "symmetric")
    its_2, _, out_2 = solve(args, *sur, "-pc_surrogate_galerkin", "symmetric", ranks=2)
    print("1:10^4, 257^2: scaled %d iterations; symmetric %d (1 process), %d (2)"
          % (its_scaled, its_1, its_2))
    for out in (out_1, out_2):
        if "coarse operators from A)" not in out:
            fail("-ksp_view does not show the symmetric hierarchy as matrices:\n" + out)
    if not its_1 <= 0.75 * its_scaled:
        fail("the symmetric hierarchy took %d iterations against the scaled one's %d "
             "(measured 12 against 23)" % (its_1, its_scaled))
    if abs(its_1 - its_2) > 1:
        fail("the symmetric hierarchy's iterations depend on the processes: %d on 1, %d on 2"
             % (its_1, its_2))
    # A grid no coarser than the model's coarsest level: the fine level is the last, its
    # dense inverse is of A (not D^-1 A), so the solve takes one or two iterations.
    its_tiny, _, _ = solve(args, "-ksp_type", "fgmres", "-pc_type", "surrogate",
                           "-pc_surrogate_model", args.model, "-pc_surrogate_galerkin",
                           "symmetric", "-kappa_contrast", "1e4", "-da_grid_x", "5",
                           "-da_grid_y", "5")
    if its_tiny > 2:
        fail("5 x 5 with the symmetric hierarchy (a dense inverse of A): %d iterations" % its_tiny)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--example", required=True)
    p.add_argument("--library", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--pins", default="pins", help="the pins CLI (bad_input trains a small model)")
    p.add_argument("--mpiexec-flag", action="append", default=[])
    p.add_argument("--nonlinear-example", help="examples/plain_petsc_nonlinear_darcy (case newton)")
    p.add_argument("case")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    globals()["case_" + args.case](args)
    print("PASS " + args.case)


if __name__ == "__main__":
    main()
