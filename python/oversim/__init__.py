"""oversim: a discrete-event Monte Carlo simulator comparing AI oversight policies.

``oversim.run`` runs a scenario as ``oversim run`` does and ``oversim.explore`` explores its
``[uncertain]`` inputs as ``oversim explore`` does; both return the very files the command
line writes (``Result.csv(name)`` is byte for byte the CLI's file for the same scenario and
seed), as pandas or polars DataFrames on request, with the decision's verdict.
``oversim.validate`` checks a scenario and raises ``ScenarioError`` with the command line's
message.

The engine runs on all cores with the GIL released; Ctrl-C raises ``KeyboardInterrupt``
within a second and keeps nothing. pandas, polars and tqdm are optional: each is imported
only when a call asks for it; NumPy seeds are read through their own methods.
"""

from __future__ import annotations

import csv as _csv
import io
import json
import math
import numbers
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence, Union

from . import _oversim
from ._oversim import OversimError, ScenarioError

__all__ = [
    "run",
    "explore",
    "validate",
    "Result",
    "Exploration",
    "Verdict",
    "ScenarioError",
    "OversimError",
    "DEFAULT_SCENARIO",
]

__version__: str = _oversim.__version__

#: The embedded default scenario's TOML text (what ``oversim run`` simulates given no file).
DEFAULT_SCENARIO: str = _oversim.default_scenario()[1]

Scenario = Union[str, "os.PathLike[str]", Mapping[str, Any], None]
Seed = Union[int, Any, None]
Progress = Union[bool, Callable[[int, int], Any], None]


# ----------------------------------------------------------------------------------------
# Arguments: scenario, overrides and seeds, as the command line takes them.


def _toml_value(v: Any) -> str:
    """A value as TOML text: strings quoted, lists and tables inline."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        x = float(v)
        if math.isnan(x) or math.isinf(x):
            raise ValueError(f"{x} is not a number a scenario can hold")
        return repr(x)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} in a scenario")


def _toml_key(k: str) -> str:
    if k and all(c.isalnum() or c in "-_" for c in k):
        return k
    return json.dumps(k, ensure_ascii=False)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, Mapping) for x in v)


def _toml(d: Mapping[str, Any], prefix: str = "") -> str:
    """A scenario given as a dict, as TOML text: keys first, then tables and arrays of
    tables (``[[policy]]``), so that the text reads as a scenario file does."""
    lines = []
    for k, v in d.items():
        if not isinstance(v, Mapping) and not _is_table_array(v):
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in d.items():
        path = f"{prefix}.{_toml_key(k)}" if prefix else _toml_key(k)
        if isinstance(v, Mapping):
            lines.append(f"\n[{path}]")
            lines.append(_toml(v, path))
        elif _is_table_array(v):
            for item in v:
                lines.append(f"\n[[{path}]]")
                lines.append(_toml(item, path))
    return "\n".join(x for x in lines if x != "")


def _source(scenario: Scenario) -> tuple[str, str, str | None]:
    """(label, text, path) of a scenario: a path, TOML text, a dict, or None (the default)."""
    if scenario is None:
        label, text = _oversim.default_scenario()
        return label, text, None
    if isinstance(scenario, Mapping):
        return "<scenario dict>", _toml(scenario), None
    if isinstance(scenario, os.PathLike) or (isinstance(scenario, str) and "\n" not in scenario):
        path = os.fspath(scenario)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise OversimError(f"error: {path}: cannot read: {e.strerror or e}") from None
        return path, text, path
    if isinstance(scenario, str):
        return "<scenario text>", scenario, None
    raise TypeError(
        f"scenario must be a path, TOML text, a dict or None (the default), not {type(scenario).__name__}"
    )


#: The largest master seed: ``run.seed`` is a TOML integer (signed, 64 bits).
MAX_SEED = 2**63 - 1


def _seed(seed: Seed) -> int | None:
    """The master seed, by NumPy's conventions: an int from 0 to ``MAX_SEED``, a
    ``SeedSequence`` (the top 63 bits of its first 64-bit word of state) or a ``Generator``
    (one draw from 0 to ``MAX_SEED``, which advances it)."""
    if seed is None:
        return None
    if isinstance(seed, bool):
        raise TypeError("seed must be an int, a numpy SeedSequence or a numpy Generator, not a bool")
    if isinstance(seed, numbers.Integral):
        s = int(seed)
        if not 0 <= s <= MAX_SEED:
            raise ValueError(f"seed must be from 0 to 2**63 - 1 (not {s})")
        return s
    if hasattr(seed, "generate_state"):
        return int(seed.generate_state(1, dtype="uint64")[0]) >> 1
    if hasattr(seed, "bit_generator") and hasattr(seed, "integers"):
        return int(seed.integers(0, MAX_SEED, dtype="int64", endpoint=True))
    raise TypeError(
        f"seed must be an int, a numpy SeedSequence or a numpy Generator, not {type(seed).__name__}"
    )


def _set_text(v: Any) -> str:
    """An override's value as ``--set PATH=VALUE`` takes it: text as written, numbers and
    lists as TOML."""
    return v if isinstance(v, str) else _toml_value(v)


def _call(
    scenario: Scenario,
    what: str,
    *,
    set: Mapping[str, Any] | None,
    replications: int | None,
    seed: Seed,
    policies: Sequence[str] | str | None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    threads: int | None,
) -> dict[str, Any]:
    label, text, path = _source(scenario)
    overrides = [(str(k), _set_text(v)) for k, v in (set or {}).items()]
    command = [f"oversim.{what}", label]
    if policies is not None:
        names = policies.split(",") if isinstance(policies, str) else list(policies)
        overrides.append(("run.policies", _toml_value([n.strip() for n in names])))
    if replications is not None:
        if isinstance(replications, bool) or not isinstance(replications, numbers.Integral):
            raise TypeError("replications must be an int")
        overrides.append(("run.replications", str(int(replications))))
    master = _seed(seed)
    if master is not None:
        overrides.append(("run.seed", str(master)))
    sweeps = []
    for k, values in (sweep or {}).items():
        if isinstance(values, str):
            raise TypeError(f"sweep {k}: give a list of values, not a string")
        sweeps.append(f"{k}=" + ",".join(_set_text(v) for v in values))
    command += [f"{p}={v}" for p, v in overrides] + [f"sweep {s}" for s in sweeps]
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1):
        raise ValueError(f"threads must be a positive int (not {threads!r})")
    return {
        "label": label,
        "text": text,
        "path": path,
        "overrides": overrides,
        "sweep": sweeps,
        "command": command,
        "threads": None if threads is None else int(threads),
    }


def _progress(progress: Progress, what: str) -> tuple[Callable[[int, int], Any] | None, Callable[[], None]]:
    """The callback the engine's counts go to, and what closes it."""
    if progress is None or progress is False:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None
    if progress is True:
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]
        except ImportError:

            def end() -> None:
                sys.stderr.write("\n")

            return _TextBar(what), end
        bar = tqdm(total=0, unit="rep", desc=what)

        def tell(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        return tell, bar.close
    raise TypeError("progress must be True, False, None or a callable (done, total)")


class _TextBar:
    """progress=True without tqdm: one line on stderr."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, done: int, total: int) -> None:
        sys.stderr.write(f"\r{self.what}: {done}/{total} replications")
        sys.stderr.flush()


# ----------------------------------------------------------------------------------------
# Results.


@dataclass(frozen=True)
class Verdict:
    """The decision: its sentences, and its table (the rows of decision.csv, or for an
    exploration those of choice.csv or map.csv) as dicts of text.

    ``str(verdict)`` is the sentences, one a line, as the command line prints them. ``at``
    holds a sweep point's values (empty without a sweep)."""

    sentences: list[str]
    table: list[dict[str, str]]
    at: dict[str, str] = field(default_factory=dict)

    @property
    def sentence(self) -> str:
        """The sentences as one text."""
        return " ".join(self.sentences)

    def __str__(self) -> str:
        at = ", ".join(f"{k}={v}" for k, v in self.at.items())
        return (f"at {at}: " if at else "") + "\n".join(self.sentences)


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = _csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


class _Files:
    """What a run and an exploration share: their files, as text and frames, and writing."""

    _kind = "run"

    def __init__(self, files: _oversim.Files) -> None:
        self._files = files

    @property
    def names(self) -> list[str]:
        """The files' names, in the order the command line writes them (manifest.json last)."""
        return self._files.names()

    def _name(self, name: str) -> str:
        full = name if "." in name else f"{name}.csv"
        if full not in self._files.names():
            short = [n.removesuffix(".csv") for n in self._files.names()]
            raise KeyError(f"this {self._kind} has no file {name!r}; it has: {', '.join(short)}")
        return full

    def csv(self, name: str) -> str:
        """The exact text the command line writes for file ``name`` (``"summary"`` or
        ``"summary.csv"``, ``"replications"``, ``"comparison"``, …; ``names`` lists them)."""
        text = self._files.text(self._name(name))
        assert text is not None
        return text

    def frame(self, name: str, backend: Literal["pandas", "polars"] = "pandas") -> Any:
        """File ``name`` as a DataFrame: pandas (default) or polars, imported only now.
        Empty cells are missing values (NaN in pandas, null in polars)."""
        text = self.csv(name)
        if backend == "pandas":
            import pandas  # type: ignore[import-untyped]

            return pandas.read_csv(io.StringIO(text))
        if backend == "polars":
            import polars

            return polars.read_csv(io.BytesIO(text.encode()), infer_schema_length=None)
        raise ValueError(f"backend must be 'pandas' or 'polars', not {backend!r}")

    @property
    def manifest(self) -> dict[str, Any]:
        """manifest.json as a dict: what ran, with which inputs, seed and version, and the
        SHA-256 of every file."""
        manifest: dict[str, Any] = json.loads(self._files.manifest_json())
        return manifest

    @property
    def warnings(self) -> list[str]:
        """What the command line would warn of (staffing rules, rare events)."""
        return self._files.warnings()

    @property
    def table(self) -> str:
        """The tables the command line prints after its sentences."""
        return self._files.table()

    def write(self, folder: str | os.PathLike[str], *, force: bool = False, report: bool = False) -> None:
        """Writes the files (and manifest.json) into ``folder`` as the command line does:
        into a new folder beside it, swapped in whole when every file is written, so an
        interrupted write leaves the folder as it was. A folder that holds results is
        replaced only with ``force=True`` (``OversimError`` otherwise). ``report=True``
        also writes report.html, as ``--report`` does."""
        self._files.write(os.fspath(folder), force, report)


class Result(_Files):
    """What ``oversim.run`` returns: the files ``oversim run`` writes, as text
    (``csv(name)``), DataFrames (``frame(name)``), the manifest and the verdict."""

    _kind = "run"

    @property
    def verdicts(self) -> list[Verdict]:
        """The verdict at every sweep point (one without a sweep)."""
        header, rows = _rows(self.csv("decision"))
        dims = header[: header.index("policy")] if "policy" in header else []
        out = []
        for values, sentences in self._files.verdicts():
            at = dict(zip(dims, values, strict=True))
            table = [r for r in rows if all(r[d] == v for d, v in at.items())]
            out.append(Verdict(sentences=list(sentences), table=table, at=at))
        return out

    @property
    def verdict(self) -> Verdict:
        """The decision's sentences and table (decision.csv's rows). With a sweep there is
        one at every point: use ``verdicts``."""
        v = self.verdicts
        if len(v) != 1:
            raise ValueError(f"this run has a verdict at each of {len(v)} sweep points; use .verdicts")
        return v[0]

    def __repr__(self) -> str:
        m = self.manifest
        return f"<oversim.Result of {m['scenario']['name']}: {', '.join(self.names)}>"


class Exploration(_Files):
    """What ``oversim.explore`` returns: the files ``oversim explore`` writes (design,
    explore, robustness, choice, sensitivity or map, breakeven …), with its sentences."""

    _kind = "exploration"

    @property
    def sentences(self) -> list[str]:
        """What holds across the uncertainty, in the command line's words."""
        return list(self._files.verdicts()[0][1])

    @property
    def verdict(self) -> Verdict:
        """The sentences, and the table they rest on: choice.csv's rows (how often each
        policy is best, P(best)), or map.csv's for a map."""
        name = "choice" if "choice.csv" in self.names else "map" if "map.csv" in self.names else None
        table = _rows(self.csv(name))[1] if name else []
        return Verdict(sentences=self.sentences, table=table)

    def __repr__(self) -> str:
        return f"<oversim.Exploration: {', '.join(self.names)}>"


# ----------------------------------------------------------------------------------------
# The calls.


def _drive(fn: Callable[..., Any], progress: Progress, what: str, *args: Any) -> Any:
    tell, close = _progress(progress, what)
    try:
        return fn(*args, progress=tell)
    finally:
        close()


def _warn(files: _Files) -> None:
    import warnings

    for w in files.warnings:
        warnings.warn(w, RuntimeWarning, stacklevel=3)


def run(
    scenario: Scenario = None,
    *,
    replications: int | None = None,
    seed: Seed = None,
    set: Mapping[str, Any] | None = None,
    policies: Sequence[str] | str | None = None,
    timeseries: str | float | None = None,
    threads: int | None = None,
    progress: Progress = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
) -> Result:
    """Runs a scenario as ``oversim run`` does and returns its files.

    Arguments:
        scenario: a scenario file's path (``str`` without a newline, or ``os.PathLike``),
            TOML text, a dict of the same tables, or ``None`` for the embedded default.
        replications: replications per policy (``-r N``; default: the scenario's
            ``run.replications``).
        seed: the master seed (``--seed``): an int from 0 to 2**63 - 1, a
            ``numpy.random.SeedSequence`` (the top 63 bits of its first 64-bit state word)
            or a ``numpy.random.Generator`` (one draw, which advances it). The same seed gives the command line's files, byte for byte.
        set: ``--set`` overrides, ``{"workload.rate": "60/h", "policy.tiered.audit.rate": 0.1}``;
            text is taken as written, numbers and lists as TOML values.
        policies: run only these policies, in this order (``--policies A,B``).
        timeseries: record replication 0's time series of every policy in steps of this
            duration (``--timeseries``): ``"6h"``, ``"1d"``, or a number of hours; the file
            ``timeseries``.
        threads: worker threads (default: every core). Results are the same for any number.
        progress: ``True`` draws a ``tqdm.auto`` bar (a line on stderr without tqdm); a
            callable is called with ``(done, total)`` replications, counts that only grow
            and end at ``(total, total)``.
        sweep: ``--sweep`` dimensions, ``{"workload.rate": ["40/h", "80/h"]}``.

    Returns a ``Result``: ``csv(name)``, ``frame(name)``, ``manifest``, ``verdict``,
    ``write(folder)``. Raises ``ScenarioError`` for a scenario that does not load (the
    command line's message, with ``file`` and ``problems``), ``OversimError`` for a run
    that cannot be made, and ``KeyboardInterrupt`` on Ctrl-C (nothing is kept).
    """
    call = _call(
        scenario, "run", set=set, replications=replications, seed=seed, policies=policies,
        sweep=sweep, threads=threads,
    )
    step = None if timeseries is None else timeseries if isinstance(timeseries, str) else f"{float(timeseries)!r}h"
    files = _drive(_oversim.run, progress, "oversim run", call, step)
    result = Result(files)
    _warn(result)
    return result


def explore(
    scenario: Scenario = None,
    *,
    points: int | None = None,
    replications: int | None = None,
    design: Literal["sobol", "lhs"] | None = None,
    map: Sequence[str] | str | None = None,
    grid: int | None = None,
    metric: str | None = None,
    breakeven: bool | Sequence[str] | str = False,
    seed: Seed = None,
    progress: Progress = None,
    set: Mapping[str, Any] | None = None,
    policies: Sequence[str] | str | None = None,
    baseline: str | None = None,
    others: Literal["base", "integrate"] | None = None,
    bootstrap: int | None = None,
    noise_share: float | None = None,
    threads: int | None = None,
) -> Exploration:
    """Explores a scenario's ``[uncertain]`` inputs as ``oversim explore`` does on one
    machine and returns its files.

    Arguments:
        scenario: as for ``run`` (the default scenario has 22 uncertain inputs).
        points: base points of a Sobol design (N·(k+2) sets for k inputs), sets of a Latin
            hypercube, or draws of the other inputs per map cell (default 8).
        replications: replications per set and policy; without them (and without
            ``run.replications`` in ``set``) a pilot chooses them, as the command line does.
        design: ``"sobol"`` (sensitivity indices; default) or ``"lhs"``.
        map: a decision map over two inputs, ``("PATH1", "PATH2")`` or ``"PATH1,PATH2"``.
        grid: values per map axis (default 9).
        metric: the metric the sentences and the map decide on (default ``net_value``).
        breakeven: ``True`` finds, for each input alone, where the choice flips between the
            best policy and the runner-up; ``("A", "B")`` between A and B (breakeven.csv).
        seed: the master seed, as for ``run``.
        progress: as for ``run``.
        set, policies, threads: as for ``run``.
        baseline: the policy differences are taken against (default: the first).
        others: in a map, ``"base"`` (the other inputs at their written values) or
            ``"integrate"`` (varied over ``points`` draws).
        bootstrap: resamples for the sensitivity intervals (default 1000).
        noise_share: the pilot's aim for replication noise (default 0.1).

    Returns an ``Exploration``: ``csv(name)``, ``frame(name)``, ``manifest``,
    ``sentences``, ``verdict`` (P(best) in its table), ``write(folder)``.
    """
    call = _call(
        scenario, "explore", set=set, replications=replications, seed=seed, policies=policies,
        threads=threads,
    )
    piloted = replications is None and not any(k == "run.replications" for k in (set or {}))
    if isinstance(map, str):
        map = [p.strip() for p in map.split(",")]
    if breakeven is True:
        pair: Any = (None,)
    elif breakeven is False or breakeven is None:
        pair = None
    else:
        names = breakeven.split(",") if isinstance(breakeven, str) else list(breakeven)
        if len(names) != 2:
            raise ValueError(f"breakeven takes two policies (A, B), or True for the best and the runner-up; not {breakeven!r}")
        pair = ((names[0].strip(), names[1].strip()),)
    exploring = {
        "design": design,
        "points": points,
        "metric": metric,
        "bootstrap": bootstrap,
        "map": None if map is None else list(map),
        "grid": grid,
        "others": others,
        "baseline": baseline,
        "pilot": piloted,
        "noise_share": None if noise_share is None else float(noise_share),
        "breakeven": None if pair is None else pair[0],
        "breakeven_asked": pair is not None,
    }
    files = _drive(_oversim.explore, progress, "oversim explore", call, exploring)
    exploration = Exploration(files)
    _warn(exploration)
    return exploration


def validate(scenario: Scenario = None, set: Mapping[str, Any] | None = None) -> None:
    """Checks a scenario (with ``set`` overrides) as ``oversim validate`` does: returns
    ``None`` if it loads, and raises ``ScenarioError`` otherwise. The error's text is the
    command line's (``error: FILE:LINE: PATH: MESSAGE``, a line per problem); ``file`` and
    ``problems`` (each a dict of ``line``, ``path`` and ``message``) hold the same."""
    call = _call(scenario, "validate", set=set, replications=None, seed=None, policies=None, threads=None)
    _oversim.validate(call)
