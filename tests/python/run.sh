#!/usr/bin/env bash
# The Python package as users get it: build the wheel with maturin, install it into fresh
# virtual environments, and test the installed package (not the source folder):
#   1. with nothing else installed, `import oversim` and a run work (pandas, polars, tqdm
#      and NumPy absent; progress falls back to a line on stderr);
#   2. with the test and notebook extras, mypy --strict on the installed package, ruff on
#      the package's source and tests, python/tests
#      against the command line's binary (OVERSIM_BIN), and examples/oversight.ipynb
#      executed with nbclient.
# Prints the wheel's size and the import time for the notes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export OVERSIM_BIN=${OVERSIM_BIN:-$root/target/release/oversim}
[ -x "$OVERSIM_BIN" ] || cargo build --release --locked --quiet
command -v nm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null; }
python3 -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/build"
"$work/build/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2"
CARGO_PROFILE_RELEASE_DEBUG=0 "$work/build/bin/maturin" build --quiet --release --locked \
    -m python/Cargo.toml -o "$work/wheels"
wheel=$(ls "$work"/wheels/oversim-*.whl)
echo "wheel: $(basename "$wheel"), $(du -k "$wheel" | cut -f1) KB"

# 1. Bare: the wheel alone.
python3 -m venv "$work/bare"
"$work/bare/bin/pip" install -q --disable-pip-version-check "$wheel"
(cd "$work" && "$work/bare/bin/python" - <<'PY'
import importlib.util, time
for m in ("pandas", "polars", "tqdm", "numpy"):
    assert importlib.util.find_spec(m) is None, f"{m} should be absent here"
t = time.perf_counter()
import oversim
print(f"import oversim: {1000 * (time.perf_counter() - t):.0f} ms (no optional packages)")
r = oversim.run(None, replications=2, seed=1, progress=True)
assert r.csv("summary").startswith("policy,metric,")
try:
    r.frame("summary")
    raise SystemExit("frame() without pandas should raise ImportError")
except ImportError:
    pass
print("\nok: import oversim and a run without pandas, polars, tqdm or NumPy")
PY
)

# 2. The tests and the notebook.
python3 -m venv "$work/full"
"$work/full/bin/pip" install -q --disable-pip-version-check "$wheel[test,notebook]"
# The installed package's annotations and stubs (py.typed, _oversim.pyi), strictly; the
# package's and the tests' source for errors and likely bugs (ruff: pyflakes, bugbear).
(cd "$work" && "$work/full/bin/mypy" --strict --no-incremental -p oversim)
"$work/full/bin/ruff" check --no-cache --select F,E9,B python/oversim python/tests
(cd "$work" && "$work/full/bin/pytest" -q -p no:cacheprovider "$root/python/tests")
(cd "$work" && "$work/full/bin/python" "$root/python/tests/run_notebook.py" "$root/examples/oversight.ipynb" 2>&1 | grep -v "running over TCP")
