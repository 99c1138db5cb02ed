// Runs a scenario with the core built for WebAssembly (src/web.rs's C ABI), on one thread,
// and writes the result files: node run.mjs CORE.wasm SCENARIO OUTDIR REPLICATIONS SEED
// The core imports nothing it calls: plotters links wasm-bindgen's placeholders, which
// only the browser's font code would call, so they are stubs that throw if ever called.
import fs from "node:fs";
const [wasmPath, scenarioPath, outDir, reps, seed] = process.argv.slice(2);
const bytes = fs.readFileSync(wasmPath);
const stub = new Proxy({}, { get: (_, name) => () => { throw new Error(`unexpected import ${String(name)}`); } });
const imports = {};
for (const imp of WebAssembly.Module.imports(new WebAssembly.Module(bytes))) imports[imp.module] = stub;
const { instance } = await WebAssembly.instantiate(bytes, imports);
const ex = instance.exports;
const req = new TextEncoder().encode(JSON.stringify({ text: fs.readFileSync(scenarioPath, "utf8"), replications: Number(reps), seed: Number(seed) }));
const p = ex.oversim_alloc(req.length);
new Uint8Array(ex.memory.buffer, p, req.length).set(req);
const t0 = performance.now();
const out = ex.oversim_run(p, req.length);
const t1 = performance.now();
const len = new DataView(ex.memory.buffer).getUint32(out, true);
const body = JSON.parse(new TextDecoder().decode(new Uint8Array(ex.memory.buffer, out + 4, len)));
if (!body.ok) { console.error(body.error); process.exit(2); }
fs.mkdirSync(outDir, { recursive: true });
for (const [name, text] of Object.entries(body.files)) fs.writeFileSync(`${outDir}/${name}`, text);
console.log(`ran in ${(t1 - t0).toFixed(0)} ms`);
