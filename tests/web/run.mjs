// Runs a scenario with the core built for WebAssembly (src/web.rs's C ABI), on one thread,
// and writes the result files:
//   node run.mjs CORE.wasm SCENARIO OUTDIR REPLICATIONS SEED [SHARDS [TIMESERIES_HOURS [EXPLORE_POINTS]]]
// With SHARDS > 1 it runs each shard on its own instance, as the browser's workers do, and
// merges them with oversim_merge, through the page's glue (web/core.js). OUTDIR also gets
// sections.html, the report's findings the engine drew, and progress, the replications the
// engine reported done. With EXPLORE_POINTS > 0 it explores (a Sobol design of that many
// base points, on net value) instead of running.
import fs from "node:fs";
// The page's own glue, so this test exercises what the browser runs.
import { oversimCore } from "../../web/core.js";

const [wasmPath, scenarioPath, outDir, reps, seed, shards = "1", series = "0", points = "0"] = process.argv.slice(2);
const bytes = fs.readFileSync(wasmPath);
const module = new WebAssembly.Module(bytes);

let progress = 0;
async function core() {
    const call = await oversimCore(module, (n) => { progress += n; });
    return (fn, request) => {
        const body = call(fn, request);
        if (!body.ok) { console.error(body.error); process.exit(2); }
        return body;
    };
}

const base = { text: fs.readFileSync(scenarioPath, "utf8"), replications: Number(reps), seed: Number(seed) };
if (Number(series) > 0) base.timeseries = Number(series);
if (Number(points) > 0) base.explore = { design: "sobol", points: Number(points), metric: "net_value", bootstrap: 1000 };
const n = Number(shards);
const t0 = performance.now();
let whole;
if (n <= 1) {
    whole = (await core())("oversim_run", base);
} else {
    const parts = [];
    for (let k = 0; k < n; k++) {
        parts.push({ origin: `worker ${k}`, files: (await core())("oversim_run", { ...base, shard: [k, n] }).files });
    }
    whole = (await core())("oversim_merge", { shards: parts });
}
const t1 = performance.now();
fs.mkdirSync(outDir, { recursive: true });
for (const [name, text] of Object.entries(whole.files)) fs.writeFileSync(`${outDir}/${name}`, text);
fs.writeFileSync(`${outDir}/sections.html`, whole.report);
fs.writeFileSync(`${outDir}/progress`, String(progress));
console.log(`ran in ${(t1 - t0).toFixed(0)} ms`);
