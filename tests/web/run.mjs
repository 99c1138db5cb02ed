// Runs a scenario with the core built for WebAssembly (src/web.rs's C ABI), on one thread,
// and writes the result files:
//   node run.mjs CORE.wasm SCENARIO OUTDIR REPLICATIONS SEED [SHARDS]
// With SHARDS > 1 it runs each shard on its own instance, as the browser's workers do, and
// merges them with oversim_merge. The core imports nothing it calls: plotters links
// wasm-bindgen's placeholders, which only the browser's font code would call, so they are
// stubs that throw if ever called.
import fs from "node:fs";

const [wasmPath, scenarioPath, outDir, reps, seed, shards = "1"] = process.argv.slice(2);
const bytes = fs.readFileSync(wasmPath);
const module = new WebAssembly.Module(bytes);
const stub = new Proxy({}, { get: (_, name) => () => { throw new Error(`unexpected import ${String(name)}`); } });
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) imports[imp.module] = stub;

async function core() {
    const ex = (await WebAssembly.instantiate(module, imports)).exports;
    return (fn, request) => {
        const req = new TextEncoder().encode(JSON.stringify(request));
        const p = ex.oversim_alloc(req.length);
        new Uint8Array(ex.memory.buffer, p, req.length).set(req);
        const out = ex[fn](p, req.length);
        ex.oversim_free(p, req.length);
        const len = new DataView(ex.memory.buffer).getUint32(out, true);
        const body = JSON.parse(new TextDecoder().decode(new Uint8Array(ex.memory.buffer, out + 4, len)));
        ex.oversim_free(out, len + 4);
        if (!body.ok) { console.error(body.error); process.exit(2); }
        return body.files;
    };
}

const base = { text: fs.readFileSync(scenarioPath, "utf8"), replications: Number(reps), seed: Number(seed) };
const n = Number(shards);
const t0 = performance.now();
let files;
if (n <= 1) {
    files = (await core())("oversim_run", base);
} else {
    const parts = [];
    for (let k = 0; k < n; k++) {
        parts.push({ origin: `worker ${k}`, files: (await core())("oversim_run", { ...base, shard: [k, n] }) });
    }
    files = (await core())("oversim_merge", { shards: parts });
}
const t1 = performance.now();
fs.mkdirSync(outDir, { recursive: true });
for (const [name, text] of Object.entries(files)) fs.writeFileSync(`${outDir}/${name}`, text);
console.log(`ran in ${(t1 - t0).toFixed(0)} ms`);
