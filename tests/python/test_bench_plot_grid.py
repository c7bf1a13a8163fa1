"""bench/plot_physics_grid.py: one weight per loss in each panel, never an average across
weights, and a clear refusal when the records leave the choice open."""

import json
import os
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "bench")
sys.path.insert(0, BENCH)
import plot_physics_grid as grid  # noqa: E402


def run(loss, weight, n, err, m=4000, seed=0):
    return dict(N=n, M=m if weight else 0, loss=loss, weight=weight, seed=seed,
                test_rel_l2=err)


RECORDS = [run("residual", 0.0, 50, 0.070), run("residual", 0.0, 50, 0.074, seed=1),
           run("residual", 0.01, 50, 0.050), run("residual", 0.01, 50, 0.060, seed=1),
           run("residual", 0.1, 50, 0.090), run("energy", 100.0, 50, 0.020)]


def test_mixed_weights_are_refused_not_averaged():
    with pytest.raises(ValueError, match=r"residual loss has runs at weights 0\.01, 0\.1"):
        grid.cells(RECORDS, [], {})


def test_chosen_weight_keeps_only_its_runs():
    c = grid.cells(RECORDS, [], {"residual": 0.01})
    mean, half, weight, seeds = c[("residual", 4000, 50)]
    assert (weight, seeds) == (0.01, 2)
    assert mean == pytest.approx(5.5) and half == pytest.approx(0.5)
    assert c[("data", 0, 50)][3] == 2  # data alone is weight 0 whatever is chosen
    assert c[("energy", 4000, 50)][2] == 100.0
    c = grid.cells(RECORDS, [], {"residual": 0.1})
    assert c[("residual", 4000, 50)][:1] == (pytest.approx(9.0),)


def test_summary_at_another_weight_does_not_join_the_panel():
    summary = dict(N=100, M=4000, loss="residual", weight=0.1, mean=3.0, half_range=0.1,
                   seeds=3, source="RESULTS.md")
    c = grid.cells(RECORDS, [summary], {"residual": 0.01})
    assert ("residual", 4000, 100) not in c
    with pytest.raises(ValueError, match="weights"):
        grid.cells([r for r in RECORDS if r["weight"] != 0.1], [summary], {})


def test_weight_option_must_name_a_loss_and_a_number():
    assert grid.parse_weights("residual=0.01,energy=10") == {"residual": 0.01, "energy": 10.0}
    for bad in ["resid=0.01", "residual", "residual=x"]:
        with pytest.raises(SystemExit, match="expected LOSS=W"):
            grid.parse_weights(bad)


def test_command_line_refuses_mixed_weights_and_draws_a_chosen_one(tmp_path):
    records = tmp_path / "records.json"
    records.write_text(json.dumps(RECORDS + [run("energy", 100.0, 0, 0.013)]))
    script = os.path.join(BENCH, "plot_physics_grid.py")
    out = tmp_path / "grid.png"
    p = subprocess.run([sys.executable, script, "-records", str(records), "-out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "-weights residual=W" in p.stderr and not out.exists()
    p = subprocess.run([sys.executable, script, "-records", str(records), "-weights",
                        "residual=0.01", "-out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # physics only (N = 0) is drawn as a level across its panel, not left out
    assert "N = 0" not in p.stdout and out.stat().st_size > 0
    # the runs the chosen weight hides are named, not dropped in silence
    assert "left out residual weight 0.1 M = 4000 N = 50 (1 runs)" in p.stdout


def test_weight_chosen_at_one_n_joins_the_panel_and_its_title():
    records = RECORDS + [run("energy", 10.0, 1000, 0.012), run("energy", 100.0, 1000, 0.015),
                         run("residual", 0.0, 1000, 0.016)]
    with pytest.raises(ValueError, match=r"energy loss has runs at weights 10, 100"):
        grid.cells(records, [], {"residual": 0.01})
    chosen = grid.parse_choice("residual=0.01,energy=100,energy@1000=10")
    assert chosen == {"residual": 0.01, "energy": 100.0, ("energy", 1000): 10.0}
    c = grid.cells(records, [], chosen)
    assert c[("energy", 4000, 1000)][:1] == (pytest.approx(1.2),)
    assert c[("energy", 4000, 50)][2] == 100.0
    assert grid.panel_title("energy", c) == "energy loss (weight 10; 100 at N = 50)"
    c[("energy", 4000, 250)] = (1.4, 0.1, 100.0, 3)
    assert grid.panel_title("energy", c) == "energy loss (weight 100; 10 at N = 1000)"
    assert grid.panel_title("preconditioned", c) == "preconditioned"
    for bad in ["energy@x=10", "energy@1000", "energi@1000=10"]:
        with pytest.raises(SystemExit, match="expected LOSS@N=W"):
            grid.parse_choice(bad)
