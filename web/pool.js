// The workers, kept from run to run so that the engine's code stays compiled: a new
// worker runs its first few tenths of a second in the browser's baseline compiler. Each
// message carries its job's id; a worker's answers to an earlier job are dropped.
export class Pool {
    // `url`: the workers' script; `size`: how many (at most one a core).
    constructor(module, url, size) {
        this.module = module;
        this.url = url;
        this.size = size;
        this.workers = [];
        this.job = 0;
        this.listeners = new Map();
        // Ends each request of the running job (when a new start overtakes it).
        this.stops = [];
    }

    // (Re)starts the workers; with `warm`, each runs `warm` (a short run while the user
    // reads, to compile the hot code).
    start(warm) {
        for (const w of this.workers) w.terminate();
        this.job++;
        for (const stop of this.stops) stop();
        this.stops = [];
        this.workers = [...Array(this.size)].map((_, k) => {
            const w = new Worker(this.url);
            w.onmessage = (e) => this.listeners.get(k)?.message(e.data);
            w.onerror = (e) => this.listeners.get(k)?.error(e);
            return w;
        });
        if (warm) for (const w of this.workers) w.postMessage({ id: 0, module: this.module, fn: "oversim_run", request: warm });
    }

    // Runs `requests` (one per worker, at most `size`) with `fn`; `progress(n)` hears of n
    // more replications done. Resolves to the answers in order, or null if a later job or
    // a cancel overtook it.
    async run(fn, requests, progress) {
        const id = ++this.job;
        const answers = await Promise.all(requests.map((request, k) => new Promise((resolve) => {
            this.stops.push(() => resolve({ ok: false, error: "overtaken" }));
            this.listeners.set(k, {
                message: (data) => {
                    if (data.id !== id) return;
                    if (data.progress === undefined) resolve(data); else progress(data.progress);
                },
                error: (e) => resolve({ ok: false, fault: true, error: `error: ${e.message}` }),
            });
            this.workers[k].postMessage({ id, module: this.module, fn, request });
        })));
        if (id !== this.job) return null;
        this.stops = [];
        // An engine that stopped on a fault is not reused.
        if (answers.some((a) => a.fault)) this.start(null);
        return answers;
    }

    // Stops the job running (its run resolves to null) and starts the workers afresh.
    cancel(warm) {
        this.start(warm);
    }
}
