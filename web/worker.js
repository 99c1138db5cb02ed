// A Web Worker running the oversim core: one request per message, { module, fn, request }
// in, { ok, files | error } out.
"use strict";
// The single-file build prepends core.js to this source; the site loads it.
if (typeof oversimCore === "undefined") importScripts("core.js");
let call = null;
self.onmessage = async (e) => {
    const { module, fn, request } = e.data;
    try {
        if (!call) call = await oversimCore(module);
        self.postMessage(call(fn, request));
    } catch (err) {
        self.postMessage({ ok: false, error: `error: ${err}` });
    }
};
