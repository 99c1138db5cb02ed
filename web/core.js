// Instantiates the oversim core (oversim.wasm: src/web.rs's C ABI) and returns
// call(fn, request) -> response, the JSON in and out of oversim_run, oversim_merge and
// oversim_levers. onProgress(n) hears of n more completed replications of a policy.
// Shared by the page (for the merge), its workers (for the runs) and tests/web/run.mjs.
export async function oversimCore(module, onProgress = () => {}) {
    // plotters links wasm-bindgen's placeholders; nothing the core calls uses them
    // (its charts measure text by a fixed rule: src/report/html/svg.rs).
    const stub = new Proxy({}, { get: (_, name) => () => { throw new Error(`unexpected import ${String(name)}`); } });
    const imports = {};
    for (const imp of WebAssembly.Module.imports(module)) imports[imp.module] = stub;
    imports.oversim = { progress: (n) => onProgress(n) };
    const ex = (await WebAssembly.instantiate(module, imports)).exports;
    return (fn, request) => {
        const req = new TextEncoder().encode(JSON.stringify(request));
        const p = ex.oversim_alloc(req.length);
        new Uint8Array(ex.memory.buffer, p, req.length).set(req);
        const out = ex[fn](p, req.length);
        ex.oversim_free(p, req.length);
        const len = new DataView(ex.memory.buffer).getUint32(out, true);
        const body = JSON.parse(new TextDecoder().decode(new Uint8Array(ex.memory.buffer, out + 4, len).slice()));
        ex.oversim_free(out, len + 4);
        return body;
    };
}
