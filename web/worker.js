// A Web Worker running the oversim core: one request per message, { id, module, fn,
// request } in; { id, progress: n } messages as replications complete, then { id, ok,
// files | error } (with fault: true if the engine stopped on a fault and is not to be
// reused). Bundled with core.js into one script (scripts/build-web.sh).
import { oversimCore } from "./core.js";

// Requests are answered in order, one at a time, on one instance of the engine.
let call = null, id = 0, queue = Promise.resolve();
self.onmessage = (e) => { queue = queue.then(() => answer(e.data)); };
async function answer({ id: job, module, fn, request }) {
    id = job;
    try {
        if (!call) call = await oversimCore(module, (n) => self.postMessage({ id, progress: n }));
        self.postMessage({ id, ...call(fn, request) });
    } catch (err) {
        self.postMessage({ id, ok: false, fault: true, error: `error: ${err}` });
    }
}
