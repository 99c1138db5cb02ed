// The oversim lab page: scenario, levers (as --set overrides), a run split over Web Workers
// (one shard each) and merged by the core as `oversim merge` does, the results, downloads
// and a permalink. Test hook: #scenario=default&replications=20&seed=7&run runs on load
// (&workers=N sets the workers; the default is one per core; &explore instead of &run
// explores, with &points=N&explore-replications=R, or a map with &map=PATH1,PATH2&grid=G);
// body[data-state] becomes "done" or "error"; #csv-* hold the files; #errors the message;
// window.oversimLast is the engine's last answer (files, sentences, report HTML).
"use strict";
const $ = (id) => document.getElementById(id);
const SCENARIOS = window.OVERSIM_SCENARIOS;
const LESSONS = window.OVERSIM_LESSONS || [];
// touched: path -> value (with its unit) of the levers the user moved.
// policies: how many the scenario compares (the progress bar counts replications of each).
// uncertain: the scenario's [uncertain] inputs (an exploration's k); explored: whether the
// last result is an exploration (the permalink says so).
// horizon: the scenario's measured hours (the time series' default step is a thirtieth).
let module = null, core = null, touched = new Map(), extraSets = [], policies = 1, uncertain = 0, explored = false, horizon = 720;

const state = (s) => { document.body.dataset.state = s; };
const busy = (b) => { $("run").disabled = b; $("explore").disabled = b; $("cancel").disabled = !b; };
const status = (s) => { $("status").textContent = s; };

function labelOf() {
    const name = $("scenario").value;
    return edited() ? "scenario.toml" : name === "default" ? "<default scenario>" : `scenarios/${name}.toml`;
}

// The scenario's sliders, from the engine (api::levers): moved ones keep their values.
function renderLevers() {
    const box = $("levers");
    box.innerHTML = "";
    const r = core("oversim_levers", { label: labelOf(), text: $("toml").value });
    if (!r.ok) { box.textContent = "(the scenario has errors; its levers appear when it is valid)"; return; }
    policies = r.policies.length;
    horizon = r.horizon_hours;
    uncertain = r.uncertain.length;
    for (const id of ["map-x", "map-y"]) {
        const sel = $(id), keep = sel.value;
        while (sel.options.length > 1) sel.remove(1);
        for (const path of r.uncertain) sel.add(new Option(path, path));
        sel.value = r.uncertain.includes(keep) ? keep : "";
    }
    $("explore-box").hidden = uncertain === 0;
    $("explore-what").textContent = `This scenario's [uncertain] table has ${uncertain} inputs: an exploration draws sets of them, runs every policy at each, and reports how often each policy is best and which inputs move the difference. Small designs are quick but their sensitivity intervals are wide; N = 64 or more gives firm ones (see docs/explore.md).`;
    for (const s of r.sliders) {
        const id = "lever-" + s.path.replace(/[^a-zA-Z0-9]+/g, "-");
        const label = document.createElement("label");
        label.htmlFor = id;
        const out = document.createElement("output");
        label.append(`${s.label}: `, out);
        const input = Object.assign(document.createElement("input"), { type: "range", id, min: s.min, max: s.max, step: s.step });
        input.dataset.path = s.path;
        input.value = touched.has(s.path) ? parseFloat(touched.get(s.path)) : s.value;
        const show = () => { out.textContent = input.value + s.unit; };
        input.oninput = () => { touched.set(s.path, input.value + s.unit); show(); };
        show();
        box.append(label, input);
    }
    // Which policies run (run.policies): all by default; each runs as in the full run.
    const chosen = touched.has("run.policies") ? JSON.parse(touched.get("run.policies")) : r.policies;
    const group = document.createElement("fieldset");
    group.append(Object.assign(document.createElement("legend"), { textContent: "Policies to run (the first is the baseline)" }));
    for (const name of r.policies) {
        const id = "policy-" + name.replace(/[^a-zA-Z0-9]+/g, "-");
        const input = Object.assign(document.createElement("input"), { type: "checkbox", id, checked: chosen.includes(name) });
        input.dataset.path = "run.policies";
        input.dataset.policy = name;
        input.onchange = () => {
            const on = [...group.querySelectorAll("input:checked")].map((e) => e.dataset.policy);
            if (on.length === r.policies.length) touched.delete("run.policies");
            else touched.set("run.policies", JSON.stringify(on));
        };
        const label = Object.assign(document.createElement("label"), { htmlFor: id, className: "inline" });
        label.append(input, ` ${name}`);
        group.append(label);
    }
    box.append(group);
}

// How many policies a run compares: those chosen, or all.
const running = () => (touched.has("run.policies") ? JSON.parse(touched.get("run.policies")).length : policies);

async function deflate(text) {
    const s = new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw"));
    const bytes = new Uint8Array(await new Response(s).arrayBuffer());
    let bin = ""; for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
async function inflate(b64) {
    const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const s = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return await new Response(s).text();
}

function overrides() {
    return [...touched.entries(), ...extraSets];
}
function edited() { return $("toml").value !== SCENARIOS[$("scenario").value]; }

async function permalink() {
    const p = new URLSearchParams();
    if (edited()) p.set("toml", await deflate($("toml").value)); else p.set("scenario", $("scenario").value);
    p.set("replications", $("replications").value);
    p.set("seed", $("seed").value);
    p.set("timeseries", $("timeseries").value);
    if (explored) {
        p.set("points", $("points").value); p.set("explore-replications", $("explore-replications").value);
        if (mapAxes()) { p.set("map", mapAxes().join(",")); p.set("grid", $("grid").value); }
    }
    for (const [path, v] of overrides()) p.append("set", `${path}=${v}`);
    return "#" + p.toString();
}

// The map's two inputs, if two different ones are chosen.
function mapAxes() {
    const [x, y] = [$("map-x").value, $("map-y").value];
    return x && y && x !== y ? [x, y] : null;
}

// About thirty points of time series over the scenario's horizon, at a round step.
function seriesStep() {
    const steps = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168];
    const want = horizon / 30;
    $("timeseries").value = steps.reduce((a, b) => (Math.abs(Math.log(b / want)) < Math.abs(Math.log(a / want)) ? b : a));
}

async function applyFragment() {
    const p = new URLSearchParams(location.hash.slice(1));
    const name = p.get("scenario");
    if (name && SCENARIOS[name] !== undefined) $("scenario").value = name;
    $("toml").value = p.has("toml") ? await inflate(p.get("toml")) : SCENARIOS[$("scenario").value];
    if (p.has("replications")) $("replications").value = p.get("replications");
    if (p.has("seed")) $("seed").value = p.get("seed");
    if (p.has("points")) $("points").value = p.get("points");
    if (p.has("grid")) $("grid").value = p.get("grid");
    if (p.has("explore-replications")) $("explore-replications").value = p.get("explore-replications");
    touched = new Map(); extraSets = [];
    renderLevers();
    const paths = new Set([...document.querySelectorAll("#levers input")].map((e) => e.dataset.path));
    for (const s of p.getAll("set")) {
        const i = s.indexOf("=");
        const [path, value] = [s.slice(0, i), s.slice(i + 1)];
        if (paths.has(path)) touched.set(path, value); else extraSets.push([path, value]);
    }
    renderLevers();
    if (p.has("timeseries")) $("timeseries").value = p.get("timeseries"); else seriesStep();
    const [x = "", y = ""] = (p.get("map") || "").split(",");
    $("map-x").value = x; $("map-y").value = y;
    return p.has("explore") ? "explore" : p.has("run") ? "run" : null;
}

// The workers, kept from run to run so that the engine's code stays compiled: a new
// worker runs its first few tenths of a second in the browser's baseline compiler. Each
// message carries its job's id; a worker's answers to an earlier job are dropped.
let pool = [], job = 0, workerUrl = null;
const WARM_UP = { replications: 4, seed: 1 };
function startPool(warm) {
    for (const w of pool) w.terminate();
    // The single-file build carries the worker's source; the site serves worker.js.
    workerUrl ||= window.OVERSIM_WORKER
        ? URL.createObjectURL(new Blob([window.OVERSIM_WORKER], { type: "text/javascript" }))
        : "worker.js";
    const n = Number(new URLSearchParams(location.hash.slice(1)).get("workers")) || navigator.hardwareConcurrency || 1;
    pool = [...Array(n)].map(() => new Worker(workerUrl));
    // A short run of the default scenario while the user reads, to compile the hot code.
    if (warm) for (const w of pool) w.postMessage({ id: 0, module, fn: "oversim_run", request: { ...WARM_UP, text: SCENARIOS.default } });
}

// A run, or with explore an exploration (a Sobol design over the [uncertain] inputs, or a
// decision map over two of them).
async function run(explore = false) {
    // An edited file's levers are those of the text that runs.
    renderLevers();
    $("errors").textContent = "";
    state("running");
    busy(true);
    const reps = Number($(explore ? "explore-replications" : "replications").value), seed = Number($("seed").value);
    const n = Math.max(1, Math.min(pool.length, reps));
    const series = Number($("timeseries").value);
    const base = { label: labelOf(), text: $("toml").value, overrides: overrides(), replications: reps, seed };
    const map = explore && mapAxes(), grid = Number($("grid").value);
    const sets = !explore ? 1 : map ? grid * grid : Number($("points").value) * (uncertain + 2);
    if (explore) base.explore = { design: "sobol", points: Number($("points").value), metric: "net_value", bootstrap: 1000 };
    if (map) base.explore.map = { paths: map, grid, others: "base" };
    if (!explore && series > 0) base.timeseries = series;
    // One tick per replication of each policy (at each set), from every worker.
    const total = sets * reps * running();
    let done = 0;
    $("progress").max = total; $("progress").value = 0;
    status(`running ${reps} replications on ${n} worker${n > 1 ? "s" : ""}…`);
    const t0 = performance.now();
    const id = ++job;
    const jobs = pool.slice(0, n).map((w, k) => new Promise((resolve) => {
        w.onmessage = (e) => {
            if (e.data.id !== id) return;
            if (e.data.progress === undefined) { resolve(e.data); return; }
            done += e.data.progress;
            if (done > $("progress").max) $("progress").max = done;
            $("progress").value = done;
            const each = explore ? `${reps} of each of ${running()} policies at ${sets} sets` : `${reps} of each of ${running()} policies`;
            status(`running: ${done} of ${total} replications (${each}) on ${n} worker${n > 1 ? "s" : ""}…`);
        };
        w.onerror = (e) => resolve({ ok: false, fault: true, error: `error: ${e.message}` });
        w.postMessage({ id, module, fn: "oversim_run", request: n > 1 ? { ...base, shard: [k, n] } : base });
    }));
    const parts = await Promise.all(jobs);
    if (id !== job || document.body.dataset.state !== "running") return;
    // An engine that stopped on a fault is not reused.
    if (parts.some((r) => r.fault)) startPool(true);
    const failed = parts.find((r) => !r.ok);
    const out = failed || (n > 1
        ? core("oversim_merge", { shards: parts.map((r, k) => ({ origin: `worker ${k}`, files: r.files })) })
        : parts[0]);
    busy(false);
    if (!out.ok) { $("errors").textContent = out.error; status("the scenario has errors"); state("error"); return; }
    const ms = performance.now() - t0;
    explored = explore;
    for (const f of ["replications", "summary", "comparison", "timeseries"]) $(`csv-${f}`).textContent = out.files[`${f}.csv`] || "";
    // The report's findings (sentences, table, charts): HTML the engine wrote and escaped,
    // the same as `oversim report` draws.
    $("report").innerHTML = out.report;
    window.oversimLast = out;
    $("downloads").innerHTML = Object.keys(out.files).sort()
        .map((f) => `<a download="${f}" href="${URL.createObjectURL(new Blob([out.files[f]], { type: "text/csv" }))}">${f}</a>`)
        .join(" · ");
    $("permalink").href = await permalink();
    const what = explore ? `an exploration of ${sets} sets × ${reps} replications` : `${reps} replications`;
    status(`done: ${what} on ${n} worker${n > 1 ? "s" : ""} in ${(ms / 1000).toFixed(2)} s`);
    document.body.dataset.ms = ms.toFixed(0);
    state("done");
}

async function init() {
    for (const name of Object.keys(SCENARIOS)) $("scenario").add(new Option(name, name));
    $("scenario").value = "default";
    // The single-file build inlines the engine (base64); the site serves oversim.wasm,
    // compiled as it streams in (and then cached compiled by browsers that do so), or from
    // its bytes where the server does not send it as application/wasm.
    if (window.OVERSIM_WASM) {
        module = await WebAssembly.compile(Uint8Array.from(atob(window.OVERSIM_WASM), (c) => c.charCodeAt(0)));
    } else {
        const response = await fetch("oversim.wasm");
        module = await WebAssembly.compileStreaming(response.clone())
            .catch(async () => WebAssembly.compile(await response.arrayBuffer()));
    }

    LESSONS.forEach((l, i) => $("lesson").add(new Option(l.title, String(i))));
    $("lesson").onchange = () => {
        const l = LESSONS[Number($("lesson").value)];
        if (!$("lesson").value || !l) { $("lesson-text").textContent = ""; return; }
        $("scenario").value = l.scenario;
        $("scenario").onchange();
        $("lesson-text").innerHTML = "";
        for (const para of l.text) {
            const p = document.createElement("p");
            p.textContent = para;
            $("lesson-text").append(p);
        }
    };
    core = await oversimCore(module);
    $("scenario").onchange = () => { $("toml").value = SCENARIOS[$("scenario").value]; touched.clear(); extraSets = []; renderLevers(); seriesStep(); };
    $("reset").onclick = () => { touched.clear(); extraSets = []; renderLevers(); };
    $("run").onclick = () => run(false);
    $("explore").onclick = () => run(true);
    $("cancel").onclick = () => {
        job++;
        startPool(true);
        busy(false); status("cancelled"); state("cancelled");
    };
    const go = await applyFragment();
    // A run asked for on load warms the workers itself.
    startPool(!go);
    state("ready");
    status("ready");
    if (go) run(go === "explore");
}
init().catch((e) => { $("errors").textContent = `error: ${e}`; state("error"); });
