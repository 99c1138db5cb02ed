#!/usr/bin/env bash
# Builds the oversim lab, a static site, into OUTDIR: index.html, app.js and worker.js
# (the page's modules bundled), scenarios.js (every shipped scenario and the lessons of docs/teaching.md) and
# oversim.wasm (the core for wasm32-unknown-unknown, src/web.rs's C ABI). Any static file
# server can host it. OUTDIR/oversim-lab.html is the same page as one self-contained file
# (engine, scripts and scenarios inlined) that works from file://, for a classroom
# without a network.
#   scripts/build-web.sh OUTDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/build-web.sh OUTDIR}
cd "$root"
if command -v rustup >/dev/null 2>&1; then rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true; fi
# Release, without debug information (the native release keeps it for profiling).
CARGO_PROFILE_RELEASE_DEBUG=0 cargo rustc --locked --quiet --lib --release --no-default-features --features portable-math \
    --target wasm32-unknown-unknown --crate-type cdylib -- -C strip=symbols
mkdir -p "$out"
# The page's ES modules, bundled by esbuild (web/package.json; npm): app.js (with core.js,
# fragment.js, levers.js, pool.js) and worker.js (with core.js), each one script.
command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
(cd web && npm ci --no-audit --no-fund --silent)
for entry in app worker; do
    web/node_modules/.bin/esbuild "web/$entry.js" --bundle --format=iife --target=es2022 \
        --log-level=warning --outfile="$out/$entry.js"
done
cp web/index.html "$out/"
cp target/wasm32-unknown-unknown/release/oversim.wasm "$out/"
python3 - "$out" docs/teaching.md scenarios/*.toml <<'PY'
import base64, json, os, re, sys
out, teaching, files = sys.argv[1], sys.argv[2], sys.argv[3:]
names = {os.path.basename(f)[:-5]: open(f).read() for f in sorted(files)}
# The default first, as the command line runs it without a file.
ordered = {"default": names.pop("default"), **names}
# Lessons: each "## N. Title" section, every scenario it names (in order), and its prose
# paragraphs as Markdown (without images, code blocks or the line of links), which the
# page renders as text.
lessons = []
for block in re.split(r"^## ", open(teaching).read(), flags=re.M)[1:]:
    title, _, body = block.partition("\n")
    named = [n for n in dict.fromkeys(re.findall(r"scenarios/([a-z0-9-]+)\.toml", body)) if n in ordered]
    if not re.match(r"\d+\.", title) or not named:
        continue
    body = re.sub(r"```.*?```", "", body, flags=re.S)
    paras = ["\n".join(" ".join(l.split()) for l in p.strip().split("\n")) for p in body.split("\n\n")]
    # A list's items may run over several lines: join each item's lines.
    paras = [re.sub(r"\n(?!- |\d+\. )", " ", p) for p in paras]
    paras = [p for p in paras if p and not p.startswith(("![", "[`", "<"))]
    lessons.append({"title": title.strip(), "scenarios": named, "text": paras})
scen = ("// The shipped scenarios (scenarios/*.toml) and the lessons of docs/teaching.md,\n"
        "// written by scripts/build-web.sh.\n"
        "window.OVERSIM_SCENARIOS = " + json.dumps(ordered, indent=1) + ";\n"
        "window.OVERSIM_LESSONS = " + json.dumps(lessons, indent=1) + ";\n")
open(os.path.join(out, "scenarios.js"), "w").write(scen)
# The single file: every script inline, the worker's source as a string, the engine base64.
read = lambda name: open(os.path.join(out, name)).read()
wasm = base64.b64encode(open(os.path.join(out, "oversim.wasm"), "rb").read()).decode()
inline = lambda code: "<script>\n" + code.replace("</script", "<\\/script") + "\n</script>"
head = ("window.OVERSIM_WASM = " + json.dumps(wasm) + ";\n"
        "window.OVERSIM_WORKER = " + json.dumps(read("worker.js")) + ";\n")
page = read("index.html")
page = page.replace('<script src="scenarios.js"></script>', inline(head + scen))
page = page.replace('<script src="app.js"></script>', inline(read("app.js")))
assert "src=" not in page.split("<body", 1)[1], "a script was not inlined"
# The Content-Security-Policy lets exactly these inline scripts run (by their SHA-256).
import hashlib
hashes = ["'sha256-%s'" % base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
          for body in re.findall(r"<script>(.*?)</script>", page, flags=re.S)]
assert len(hashes) == 2, "the one-file page has two inline scripts (data, the bundled page)"
csp = "script-src 'self' 'wasm-unsafe-eval'"
assert csp in page, "index.html has no Content-Security-Policy"
page = page.replace(csp, "script-src %s 'wasm-unsafe-eval'" % " ".join(hashes))
open(os.path.join(out, "oversim-lab.html"), "w").write(page)
PY
site=$(cat "$out"/index.html "$out"/*.js "$out/oversim.wasm" | gzip -9c | wc -c)
echo "built the oversim lab in $out: the page and engine are $site bytes gzipped; oversim-lab.html $(wc -c <"$out/oversim-lab.html") bytes (one file)"
