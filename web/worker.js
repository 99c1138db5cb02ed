// A Web Worker running the oversim core: one request per message, { module, fn, request }
// in; { progress: n } messages as replications complete, then { ok, files | error }.
"use strict";
// The single-file build prepends core.js to this source; the site loads it.
if (typeof oversimCore === "undefined") importScripts("core.js");
let call = null;
self.onmessage = async (e) => {
    const { module, fn, request } = e.data;
    try {
        if (!call) call = await oversimCore(module, (n) => self.postMessage({ progress: n }));
        self.postMessage(call(fn, request));
    } catch (err) {
        self.postMessage({ ok: false, error: `error: ${err}` });
    }
};
