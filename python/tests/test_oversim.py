"""The Python package against the command line: run against the installed wheel (CI builds
it, installs it into a fresh virtual environment and runs these), with the command line's
binary (OVERSIM_BIN, or target/release/oversim) as the reference."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas
import polars
import pytest

import oversim

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BIN = Path(os.environ.get("OVERSIM_BIN", ROOT / "target" / "release" / "oversim"))


def cli(*args: str, out: Path) -> Path:
    """Runs the command line's binary into `out` (quiet, replacing what is there)."""
    assert BIN.is_file(), f"the command line's binary is needed as the reference: build it (cargo build --release) or set OVERSIM_BIN; not found: {BIN}"
    subprocess.run([str(BIN), *args, "-o", str(out), "-q", "--force"], check=True, cwd=ROOT)
    return out


def csvs(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.suffix == ".csv"}


def test_the_package_is_the_installed_wheel():
    # The tests are of what users install, not of the source folder.
    assert "site-packages" in oversim.__file__, oversim.__file__
    assert oversim.__version__


# Three shipped scenarios, each with what the command line adds.
RUNS = [
    ("layered-defence.toml", ["-r", "6", "--seed", "11"], dict(replications=6, seed=11)),
    ("catastrophic-tail.toml", ["-r", "5", "--seed", "3", "--set", "workload.rate=30/h"],
     dict(replications=5, seed=3, set={"workload.rate": "30/h"})),
    ("drifting-agent.toml", ["-r", "4", "--seed", "7", "--timeseries", "1d"],
     dict(replications=4, seed=7, timeseries=24)),
]


@pytest.mark.parametrize("name,args,kwargs", RUNS, ids=[r[0] for r in RUNS])
def test_a_run_is_byte_for_byte_the_command_lines(tmp_path, name, args, kwargs):
    want = csvs(cli("run", str(SCENARIOS / name), *args, out=tmp_path / "cli"))
    result = oversim.run(SCENARIOS / name, threads=2, **kwargs)
    got = {n: result.csv(n) for n in result.names if n.endswith(".csv")}
    assert sorted(got) == sorted(want)
    for n in want:
        assert got[n] == want[n], n
    # Written by the package: the same files, and a manifest whose hashes are theirs.
    result.write(tmp_path / "py", report=True)
    assert csvs(tmp_path / "py") == want
    assert (tmp_path / "py" / "report.html").read_text().startswith("<!DOCTYPE html>")
    manifest = json.loads((tmp_path / "py" / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(want)
    assert manifest["files"] == result.manifest["files"]


def test_the_default_scenario_and_a_sweep_are_the_command_lines(tmp_path):
    want = csvs(cli("run", "-r", "3", "--seed", "5", "--sweep", "workload.rate=30/h,50/h", out=tmp_path / "cli"))
    result = oversim.run(None, replications=3, seed=5, sweep={"workload.rate": ["30/h", "50/h"]})
    assert {n: result.csv(n) for n in want} == want
    verdicts = result.verdicts
    assert [v.at for v in verdicts] == [{"workload.rate": "30/h"}, {"workload.rate": "50/h"}]
    for v in verdicts:
        assert v.sentences and len(v.table) == len(result.manifest["policies"])
    with pytest.raises(ValueError, match="use .verdicts"):
        _ = result.verdict


def test_an_exploration_is_byte_for_byte_the_command_lines(tmp_path):
    # The pilot chooses the replications, and the break-even search runs, as on the command line.
    scenario = SCENARIOS / "automation-bias.toml"
    out = cli("explore", str(scenario), "--points", "2", "--seed", "5", "--breakeven", out=tmp_path / "cli")
    want = csvs(out)
    ex = oversim.explore(scenario, points=2, seed=5, breakeven=True)
    assert sorted(n for n in ex.names if n.endswith(".csv")) == sorted(want)
    for n in want:
        assert ex.csv(n) == want[n], n
    cli_manifest = json.loads((out / "manifest.json").read_text())
    assert ex.manifest["exploration"]["pilot"] == cli_manifest["exploration"]["pilot"]
    # The manifest holds the analysis's sentences; the break-even search's follow them.
    assert ex.manifest["exploration"]["sentences"] == cli_manifest["exploration"]["sentences"]
    said = cli_manifest["exploration"]["sentences"]
    assert ex.sentences[: len(said)] == said and len(ex.sentences) > len(said)
    v = ex.verdict
    assert v.sentences == ex.sentences
    assert set(cli_manifest["policies"]) <= {r["policy"] for r in v.table}
    ex.write(tmp_path / "py", report=True)
    assert csvs(tmp_path / "py") == want
    assert "report.html" in {p.name for p in (tmp_path / "py").iterdir()}


def test_a_map_is_byte_for_byte_the_command_lines(tmp_path):
    scenario = SCENARIOS / "drifting-agent.toml"
    paths = list(tomllib.loads(scenario.read_text())["uncertain"])[:2]
    want = csvs(cli("explore", str(scenario), "--map", ",".join(paths), "--grid", "3", "-r", "3", out=tmp_path / "cli"))
    # The command line's warnings are Python's (RuntimeWarning): here a staffing rule's.
    with pytest.warns(RuntimeWarning, match="do not settle"):
        ex = oversim.explore(scenario, map=paths, grid=3, replications=3)
    assert any("do not settle" in w for w in ex.warnings)
    assert {n: ex.csv(n) for n in want} == want
    assert "map.csv" in ex.names and ex.verdict.table


def test_frames_are_the_csvs_read_by_pandas_and_polars(tmp_path):
    out = cli("run", str(SCENARIOS / "layered-defence.toml"), "-r", "4", "--seed", "2", out=tmp_path / "cli")
    result = oversim.run(SCENARIOS / "layered-defence.toml", replications=4, seed=2)
    for name in ["summary", "replications", "comparison", "decision", "classes", "stages"]:
        pandas.testing.assert_frame_equal(result.frame(name), pandas.read_csv(out / f"{name}.csv"))
        got = result.frame(name, backend="polars")
        want = polars.read_csv(out / f"{name}.csv", infer_schema_length=None)
        assert got.equals(want), name
    with pytest.raises(KeyError, match="has no file 'nonesuch'"):
        result.csv("nonesuch")
    with pytest.raises(ValueError, match="backend"):
        result.frame("summary", backend="arrow")


def test_scenarios_as_text_and_dicts_are_the_files():
    path = SCENARIOS / "layered-defence.toml"
    text = path.read_text()
    by_path = oversim.run(path, replications=3, seed=9)
    by_text = oversim.run(text, replications=3, seed=9)
    by_dict = oversim.run(tomllib.loads(text), replications=3, seed=9)
    for name in ["summary", "replications", "decision"]:
        assert by_text.csv(name) == by_path.csv(name) == by_dict.csv(name)


def test_a_scenario_error_carries_the_line_and_the_path():
    text = (SCENARIOS / "layered-defence.toml").read_text()
    lines = text.splitlines()
    at = next(i for i, l in enumerate(lines) if l.strip().startswith("rate ="))
    lines[at] = "rate = -5"
    with pytest.raises(oversim.ScenarioError) as e:
        oversim.validate("\n".join(lines) + "\n")
    err = e.value
    assert err.file == "<scenario text>"
    assert err.problems[0]["line"] == at + 1
    assert err.problems[0]["path"] == "workload.rate"
    assert str(err).startswith(f"error: <scenario text>:{at + 1}: workload.rate: ")
    # The command line's message, word for word, for a file.
    bad = ROOT / "tests" / "bad"
    case = sorted(bad.glob("*.toml"))[0]
    expected = subprocess.run([str(BIN), "validate", str(case.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True)
    assert expected.returncode == 2
    with pytest.raises(oversim.ScenarioError) as e:
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            oversim.validate(str(case.relative_to(ROOT)))
        finally:
            os.chdir(cwd)
    assert str(e.value) in expected.stderr
    # An override's problem has a path and no line.
    with pytest.raises(oversim.ScenarioError) as e:
        oversim.run(SCENARIOS / "layered-defence.toml", set={"workload.rate": "fast"})
    assert e.value.problems[0]["path"] == "workload.rate" and e.value.problems[0]["line"] is None
    assert oversim.validate(SCENARIOS / "layered-defence.toml") is None


def test_progress_counts_only_grow_and_end_at_the_total():
    seen: list[tuple[int, int]] = []
    result = oversim.run(SCENARIOS / "drifting-agent.toml", replications=40, seed=1, threads=1,
                         progress=lambda done, total: seen.append((done, total)))
    policies = len(result.manifest["policies"])
    # The manifest's clock is read when the run has ended.
    assert result.manifest["wall_seconds"] > 0.05 and result.manifest["finished_at"] >= result.manifest["started_at"]
    assert len(seen) >= 2, seen
    assert seen[-1][0] == seen[-1][1] >= 40 * policies
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(seen, seen[1:], strict=False)), seen
    assert all(0 <= d <= t for d, t in seen)


def test_progress_true_draws_a_tqdm_bar(capsys):
    oversim.run(SCENARIOS / "layered-defence.toml", replications=3, progress=True)
    assert "oversim run" in capsys.readouterr().err


def test_seeds_follow_numpys_conventions():
    ss = np.random.SeedSequence(12345)
    word = int(ss.generate_state(1, dtype=np.uint64)[0]) >> 1
    a = oversim.run(SCENARIOS / "layered-defence.toml", replications=3, seed=ss)
    b = oversim.run(SCENARIOS / "layered-defence.toml", replications=3, seed=word)
    assert a.csv("replications") == b.csv("replications")
    assert a.manifest["seed"] == word
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    c = oversim.run(SCENARIOS / "layered-defence.toml", replications=3, seed=g1)
    assert c.manifest["seed"] == int(g2.integers(0, 2**63 - 1, dtype=np.int64, endpoint=True))
    for bad in [-1, 2**63, True, 1.5]:
        with pytest.raises((ValueError, TypeError)):
            oversim.run(SCENARIOS / "layered-defence.toml", replications=3, seed=bad)


def interrupted(call: str, after: str, cwd: Path) -> dict:
    """Runs `call` (oversim code) in the main thread of a fresh Python process, sends that
    process SIGINT (as Ctrl-C does) a second in, then runs `after`; returns how long after
    the signal `KeyboardInterrupt` was raised (None if it was not) and `after`'s value. A
    fresh process: in CI, after the frames test had used polars in the pytest process, a
    SIGINT to that process did not reach Python's handler (polars installs its own,
    pola-rs/polars#20961 and #21739)."""
    script = textwrap.dedent(f"""
        import json, os, signal, threading, time
        import oversim
        sent = {{}}
        def interrupt():
            time.sleep(1.0)
            sent["at"] = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=interrupt, daemon=True).start()
        try:
            {call}
            raised = None
        except KeyboardInterrupt:
            raised = time.monotonic() - sent["at"]
        print(json.dumps({{"raised": raised, "after": {after}}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ctrl_c_interrupts_a_long_run_within_a_second(tmp_path):
    said = interrupted("oversim.run(None, replications=100000, seed=1)", "None", tmp_path)
    assert said["raised"] is not None and said["raised"] < 1.0, said
    assert list(tmp_path.iterdir()) == [], "nothing is written"


def test_two_runs_in_parallel_threads_keep_their_own_results():
    scenario = SCENARIOS / "layered-defence.toml"
    alone = {s: oversim.run(scenario, replications=30, seed=s, threads=1).csv("replications") for s in (1, 2)}
    got: dict[int, str] = {}
    spans: dict[int, tuple[float, float]] = {}

    def one(s: int) -> None:
        t = time.monotonic()
        got[s] = oversim.run(scenario, replications=30, seed=s, threads=1).csv("replications")
        spans[s] = (t, time.monotonic())

    # A Python thread counts while the runs go: it runs only if the GIL is released.
    ticks = [0]
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    threads = [threading.Thread(target=one, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    counter.join()
    assert got == alone
    (a0, a1), (b0, b1) = spans[1], spans[2]
    assert a0 < b1 and b0 < a1, "the two runs overlapped"
    assert ticks[0] > 10


def test_write_keeps_the_command_lines_safety(tmp_path):
    result = oversim.run(SCENARIOS / "layered-defence.toml", replications=3, seed=1)
    result.write(tmp_path / "out")
    (tmp_path / "out" / "notes.txt").write_text("mine")
    before = (tmp_path / "out" / "summary.csv").read_text()
    again = oversim.run(SCENARIOS / "layered-defence.toml", replications=4, seed=1)
    with pytest.raises(oversim.OversimError, match="already holds results"):
        again.write(tmp_path / "out")
    assert (tmp_path / "out" / "summary.csv").read_text() == before
    again.write(tmp_path / "out", force=True)
    assert (tmp_path / "out" / "summary.csv").read_text() == again.csv("summary")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no hidden folder is left"


def test_help_explains_every_argument():
    import inspect

    for fn in (oversim.run, oversim.explore, oversim.validate):
        doc = inspect.getdoc(fn) or ""
        for name in inspect.signature(fn).parameters:
            assert f"{name}" in doc, (fn.__name__, name)


def test_import_needs_neither_pandas_nor_polars_nor_tqdm():
    script = textwrap.dedent("""
        import sys
        for m in ("pandas", "polars", "tqdm", "numpy"):
            sys.modules[m] = None  # `import m` raises ImportError
        import oversim
        r = oversim.run(None, replications=2, progress=True)
        assert r.csv("summary").startswith("policy,")
        try:
            r.frame("summary")
        except ImportError:
            print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "replications" in done.stderr  # the plain progress line without tqdm


def test_the_extension_leaves_the_c_math_library_alone():
    # Its own calls of exp, log, pow … reach libm's code under wrapped names (python/build.rs):
    # none is defined for the process, and none is left for the C library.
    nm = shutil.which("nm")
    assert nm, "nm (binutils) is needed"
    so = oversim._oversim.__file__
    names = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "pow", "sin", "cos", "tan",
             "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "cbrt", "hypot"}
    defined = subprocess.run([nm, "-D", "--defined-only", so], capture_output=True, text=True, check=True).stdout
    undefined = subprocess.run([nm, "-D", "--undefined-only", so], capture_output=True, text=True, check=True).stdout
    sym = lambda out: {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
    assert not (sym(defined) & names)
    assert not (sym(undefined) & names)
    assert {f"__wrap_{n}" for n in names} <= sym(defined)


LAYERED = SCENARIOS / "layered-defence.toml"
UNCERTAIN = SCENARIOS / "automation-bias.toml"


@pytest.mark.parametrize(
    "call,error,says",
    [
        (lambda: oversim.explore(UNCERTAIN, design="sobel", replications=2), oversim.OversimError, "did you mean `sobol`"),
        (lambda: oversim.explore(UNCERTAIN, points=0, replications=2), oversim.OversimError, "points must be 1 to 65536"),
        (lambda: oversim.explore(UNCERTAIN, noise_share=0.9), oversim.OversimError, "noise_share must be from 0.001 to 0.5"),
        (lambda: oversim.explore(UNCERTAIN, others="all", map="a,b", replications=2), oversim.OversimError, "others: `all` is not allowed"),
        (lambda: oversim.explore(UNCERTAIN, breakeven=("a",)), ValueError, "two policies"),
        (lambda: oversim.explore(UNCERTAIN, metric="nonesuch", replications=2), oversim.ScenarioError, "nonesuch"),
        (lambda: oversim.run(LAYERED, timeseries="0h"), oversim.OversimError, "must be longer than zero"),
        (lambda: oversim.run(LAYERED, timeseries="often"), oversim.OversimError, "timeseries"),
        (lambda: oversim.run(123), TypeError, "scenario must be a path"),
        (lambda: oversim.run(LAYERED, set={"workload.rate": float("nan")}), ValueError, "not a number"),
        (lambda: oversim.run("no-such-file.toml"), oversim.OversimError, "no-such-file.toml: cannot read"),
        (lambda: oversim.run(LAYERED, sweep={"workload.rate": "40/h"}), TypeError, "list of values"),
        (lambda: oversim.run(LAYERED, threads=0), ValueError, "threads must be a positive int"),
        (lambda: oversim.run(LAYERED, replications="5"), TypeError, "replications must be an int"),
        (lambda: oversim.run(LAYERED, policies=["nonesuch"]), oversim.ScenarioError, "run.policies"),
        (lambda: oversim.run(LAYERED, progress="yes"), TypeError, "progress must be"),
    ],
)
def test_bad_arguments_say_what_is_allowed(call, error, says):
    with pytest.raises(error) as e:
        call()
    assert says in str(e.value)


def test_ctrl_c_interrupts_an_exploration_and_the_next_call_runs(tmp_path):
    # An exploration of 1,536 sets; the cancellation is that call's alone: the next one runs.
    said = interrupted(
        "oversim.explore(None, points=64, replications=50, seed=1)",
        'oversim.run(None, replications=2).csv("summary")[:7]',
        tmp_path,
    )
    assert said["raised"] is not None and said["raised"] < 1.0, said
    assert said["after"] == "policy,"


def test_an_unknown_baseline_is_the_command_lines_message():
    with pytest.raises(oversim.OversimError, match="^error: .*nonesuch"):
        oversim.explore(UNCERTAIN, baseline="nonesuch", replications=2, points=1)
