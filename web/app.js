// The oversim lab page: scenario, levers (as --set overrides), a run split over Web Workers
// (one shard each) and merged by the core as `oversim merge` does, the results, downloads
// and a permalink. Test hook: #scenario=default&replications=20&seed=7&run runs on load
// (&workers=N sets the workers; the default is one per core; &explore instead of &run
// explores, with &points=N&explore-replications=R, or a map with &map=PATH1,PATH2&grid=G);
// body[data-state] becomes "done" or "error"; #csv-* hold the files; #errors the message;
// window.oversimLast is the engine's last answer (files, sentences, report HTML).
// A link is somebody else's: what it sets is listed above Run (each removable) and in the
// results' header, its size and what it inflates to are capped, its workers are clamped to
// the machine's cores, and a damaged link falls back to the named or default scenario.
"use strict";
const $ = (id) => document.getElementById(id);
const SCENARIOS = window.OVERSIM_SCENARIOS;
const LESSONS = window.OVERSIM_LESSONS || [];
// touched: path -> value (with its unit) of the levers the user moved.
// policies: how many the scenario compares (the progress bar counts replications of each).
// uncertain: the scenario's [uncertain] inputs (an exploration's k); explored: whether the
// last result is an exploration (the permalink says so).
// horizon: the scenario's measured hours (the time series' default step is a thirtieth).
// current: the shipped scenario the page loaded (the TOML may be an edit of it).
let module = null, core = null, touched = new Map(), extraSets = [], policies = 1, uncertain = 0, explored = false, horizon = 720, current = "default";
// Caps on what a link may ask for: its fragment's length, the scenario text it inflates to
// (the largest shipped scenario is under 20 KB), and run.seed's range.
const MAX_FRAGMENT = 64 * 1024, MAX_TOML = 1024 * 1024, MAX_SEED = 9223372036854775807n, MAX_REPLICATIONS = 100000;
const cores = () => Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 64));
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

const state = (s) => { document.body.dataset.state = s; };
const busy = (b) => { $("run").disabled = b; $("explore").disabled = b; $("cancel").disabled = !b; };
const status = (s) => { $("status").textContent = s; };

function labelOf() {
    return edited() ? "scenario.toml" : current === "default" ? "<default scenario>" : `scenarios/${current}.toml`;
}

// The scenario's sliders, from the engine (api::levers): moved ones keep their values.
function renderLevers() {
    const box = $("levers");
    box.innerHTML = "";
    const r = core("oversim_levers", { label: labelOf(), text: $("toml").value });
    if (!r.ok) { box.textContent = "(the scenario has errors; its levers appear when it is valid)"; showOverrides(); return null; }
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
        input.oninput = () => { touched.set(s.path, input.value + s.unit); show(); showOverrides(); };
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
            showOverrides();
        };
        const label = Object.assign(document.createElement("label"), { htmlFor: id, className: "inline" });
        label.append(input, ` ${name}`);
        group.append(label);
    }
    box.append(group);
    showOverrides();
    return r;
}

// What a run will run, above Run: the file (shipped or edited) and every override, each
// with a button that removes it. A link's overrides that no lever shows are listed too.
function showOverrides() {
    $("edited-note").textContent = "";
    $("edited-note").append(edited()
        ? `The scenario file is edited: it differs from the shipped scenarios/${current}.toml. `
        : `The shipped scenarios/${current}.toml, as written. `);
    if (edited()) {
        const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: "restore the shipped file" });
        b.onclick = () => loadScenario(current);
        $("edited-note").append(b);
    }
    const list = $("override-list");
    list.textContent = "";
    const levers = new Set([...document.querySelectorAll("#levers input")].map((e) => e.dataset.path));
    for (const [path, value] of overrides()) {
        const li = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = `${path} = ${value}`;
        const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: "remove" });
        b.setAttribute("aria-label", `remove the override ${path}`);
        b.onclick = () => {
            if (touched.get(path) === value) touched.delete(path);
            extraSets = extraSets.filter(([p, v]) => p !== path || v !== value);
            renderLevers();
        };
        li.append(code, levers.has(path) ? "" : " (no lever shows it)", b);
        list.append(li);
    }
    if (!list.children.length) list.append(Object.assign(document.createElement("li"), { textContent: "no overrides" }));
}

// Loads shipped scenario `name` as written: its text, levers, run settings and time step.
function loadScenario(name) {
    current = name;
    $("scenario").value = name;
    $("toml").value = SCENARIOS[name];
    touched = new Map(); extraSets = [];
    const r = renderLevers();
    if (r) { $("replications").value = r.replications; $("seed").value = r.seed; }
    seriesStep();
}

// Asks before a switch discards the user's edits of the scenario file.
const keepEdits = () => edited() && !window.confirm(`Discard your edits to the scenario file (scenarios/${current}.toml)?`);

// How many policies a run compares: those chosen, or all.
const running = () => (touched.has("run.policies") ? JSON.parse(touched.get("run.policies")).length : policies);

async function deflate(text) {
    const s = new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw"));
    const bytes = new Uint8Array(await new Response(s).arrayBuffer());
    let bin = ""; for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
// A link's scenario text, inflated; at most `cap` bytes (a small link can inflate to
// gigabytes), with a plain message if it is damaged.
async function inflate(b64, cap) {
    let bytes;
    try {
        const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/"));
        bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    } catch { throw new Error("its scenario is not valid base64"); }
    const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
    const parts = [];
    let total = 0;
    try {
        for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            total += value.length;
            if (total > cap) { reader.cancel().catch(() => {}); throw new RangeError(`its scenario inflates to more than ${cap} bytes`); }
            parts.push(value);
        }
    } catch (e) { throw e instanceof RangeError ? e : new Error("its compressed scenario is damaged"); }
    return new TextDecoder().decode(await new Blob(parts).arrayBuffer());
}

function overrides() {
    return [...touched.entries(), ...extraSets];
}
function edited() { return $("toml").value !== SCENARIOS[current]; }

async function permalink() {
    const p = new URLSearchParams();
    p.set("scenario", current);
    if (edited()) p.set("toml", await deflate($("toml").value));
    p.set("replications", $("replications").value);
    p.set("seed", $("seed").value);
    p.set("timeseries", $("timeseries").value);
    if (explored) {
        p.set("points", $("points").value); p.set("explore-replications", $("explore-replications").value);
        if (mapAxes()) { p.set("map", mapAxes().join(",")); p.set("grid", $("grid").value); }
        p.set("explore", "");
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

// Applies the link's fragment; returns "run", "explore" or null (what it asks to do on
// load), or the message saying why the link was not followed.
async function applyFragment() {
    const hash = location.hash.slice(1);
    if (hash.length > MAX_FRAGMENT) {
        loadScenario("default");
        return { problem: `this link is ${hash.length} characters long, more than the ${MAX_FRAGMENT} a lab link may have; the default scenario is shown instead` };
    }
    const p = new URLSearchParams(hash);
    const name = p.get("scenario");
    loadScenario(name && has(SCENARIOS, name) ? name : "default");
    if (p.has("toml")) {
        try { $("toml").value = await inflate(p.get("toml"), MAX_TOML); } catch (e) {
            loadScenario(current);
            return { problem: `this link's scenario cannot be read (${e.message}); the shipped scenarios/${current}.toml is shown instead` };
        }
        const r = renderLevers();
        if (r) { $("replications").value = r.replications; $("seed").value = r.seed; }
    }
    for (const id of ["replications", "seed", "points", "grid", "explore-replications"]) if (p.has(id)) $(id).value = p.get(id);
    touched = new Map(); extraSets = [];
    renderLevers();
    const paths = new Set([...document.querySelectorAll("#levers input")].map((e) => e.dataset.path));
    for (const s of p.getAll("set")) {
        const i = s.indexOf("=");
        if (i < 1) continue;
        const [path, value] = [s.slice(0, i), s.slice(i + 1)];
        if (paths.has(path)) touched.set(path, value); else extraSets.push([path, value]);
    }
    renderLevers();
    if (p.has("timeseries")) $("timeseries").value = p.get("timeseries"); else seriesStep();
    const [x = "", y = ""] = (p.get("map") || "").split(",");
    $("map-x").value = x; $("map-y").value = y;
    return { go: p.has("explore") ? "explore" : p.has("run") ? "run" : null };
}

// The run settings, checked with a plain message: replications and seed are whole numbers
// in their ranges (the seed is sent as text: a JavaScript number holds only 53 bits).
function settings(explore) {
    const seed = $("seed").value.trim(), reps = $(explore ? "explore-replications" : "replications").value.trim();
    if (!/^\d{1,19}$/.test(seed) || BigInt(seed) > MAX_SEED) throw new Error(`seed: “${seed}” is not a whole number from 0 to ${MAX_SEED}`);
    if (!/^\d{1,6}$/.test(reps) || Number(reps) < 2 || Number(reps) > MAX_REPLICATIONS) throw new Error(`replications: “${reps}” is not a whole number from 2 to ${MAX_REPLICATIONS}`);
    return { seed, reps: Number(reps) };
}

// Where a run's numbers came from, above its report: the scenario, whether it is the
// shipped file, each override, the replications and seed.
function showHeader(explore, reps, seed) {
    const h = $("run-header");
    h.textContent = "";
    const p = (...parts) => { const e = document.createElement("p"); e.append(...parts); h.append(e); };
    const b = (t) => Object.assign(document.createElement("b"), { textContent: t });
    p(explore ? "Exploration of " : "Run of ", b(labelOf()), edited() ? ` — edited: it differs from the shipped scenarios/${current}.toml` : " — the shipped file, as written", `; ${reps} replications, seed ${seed}.`);
    const o = overrides();
    p(o.length ? `Overrides (${o.length}): ` : "Overrides: none.", o.map(([k, v]) => `${k} = ${v}`).join("; "));
}

// An error: the message in view, the old results cleared (they are not this run's).
function showFailure(message) {
    $("errors").textContent = message;
    for (const id of ["report", "run-header", "downloads"]) $(id).textContent = "";
    $("report").append(Object.assign(document.createElement("p"), { className: "note err", textContent: "No results: the last run did not finish (see the message above)." }));
    for (const f of ["replications", "summary", "comparison", "timeseries"]) $(`csv-${f}`).textContent = "";
    $("permalink").removeAttribute("href");
    window.oversimLast = null;
    busy(false);
    status("the run failed");
    state("error");
    $("errors").scrollIntoView({ block: "nearest" });
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
    // At most one worker a core: a link cannot start hundreds.
    const asked = Number(new URLSearchParams(location.hash.slice(1, MAX_FRAGMENT)).get("workers"));
    const n = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, cores()) : cores();
    pool = [...Array(n)].map(() => new Worker(workerUrl));
    // A short run of the default scenario while the user reads, to compile the hot code.
    if (warm) for (const w of pool) w.postMessage({ id: 0, module, fn: "oversim_run", request: { ...WARM_UP, text: SCENARIOS.default } });
}

// A run, or with explore an exploration (a Sobol design over the [uncertain] inputs, or a
// decision map over two of them).
async function run(explore = false) {
    try { await attempt(explore); } catch (e) { showFailure(`error: ${e.message || e}`); }
}

async function attempt(explore) {
    // An edited file's levers are those of the text that runs.
    renderLevers();
    $("errors").textContent = "";
    const { reps, seed } = settings(explore);
    state("running");
    busy(true);
    $("status").scrollIntoView({ block: "nearest" });
    const n = Math.max(1, Math.min(pool.length, reps));
    const series = Number($("timeseries").value);
    const base = { label: labelOf(), text: $("toml").value, overrides: [...overrides(), ["run.seed", seed]], replications: reps };
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
    if (!out.ok) { showFailure(out.error); return; }
    busy(false);
    const ms = performance.now() - t0;
    explored = explore;
    for (const f of ["replications", "summary", "comparison", "timeseries"]) $(`csv-${f}`).textContent = out.files[`${f}.csv`] || "";
    // The report's findings (sentences, table, charts): HTML the engine wrote and escaped,
    // the same as `oversim report` draws.
    $("report").innerHTML = out.report;
    showHeader(explore, reps, seed);
    window.oversimLast = out;
    $("downloads").innerHTML = Object.keys(out.files).sort()
        .map((f) => `<a download="${f}" href="${URL.createObjectURL(new Blob([out.files[f]], { type: "text/csv" }))}">${f}</a>`)
        .join(" · ");
    $("permalink").href = await permalink();
    const what = explore ? `an exploration of ${sets} sets × ${reps} replications` : `${reps} replications`;
    status(`done: ${what} on ${n} worker${n > 1 ? "s" : ""} in ${(ms / 1000).toFixed(2)} s`);
    document.body.dataset.ms = ms.toFixed(0);
    state("done");
    $("results").scrollIntoView({ block: "start" });
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
    let lesson = "";
    $("lesson").onchange = () => {
        if (keepEdits()) { $("lesson").value = lesson; return; }
        lesson = $("lesson").value;
        const l = LESSONS[Number(lesson)];
        $("lesson-text").textContent = "";
        if (!lesson || !l) return;
        loadScenario(l.scenarios[0]);
        // Every scenario the lesson names, each loaded and run by its button.
        const row = document.createElement("p");
        for (const name of l.scenarios) {
            const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary", textContent: `Run scenarios/${name}.toml` });
            b.dataset.scenario = name;
            b.onclick = () => { if (keepEdits()) return; loadScenario(name); run(false); };
            row.append(b);
        }
        $("lesson-text").append(row, ...l.text.map(markdown));
    };
    core = await oversimCore(module);
    $("scenario").onchange = () => {
        if (keepEdits()) { $("scenario").value = current; return; }
        loadScenario($("scenario").value);
    };
    $("reset").onclick = () => { touched.clear(); extraSets = []; renderLevers(); };
    $("run").onclick = () => run(false);
    $("explore").onclick = () => run(true);
    $("cancel").onclick = () => {
        job++;
        startPool(true);
        busy(false); status("cancelled"); state("cancelled");
    };
    const { go, problem } = await applyFragment();
    // A run asked for on load warms the workers itself.
    startPool(!go);
    state("ready");
    status("ready");
    if (problem) $("errors").textContent = `error: ${problem}`;
    if (go) run(go === "explore");
}

// A lesson's paragraph of Markdown as elements (text, never HTML): `code`, **bold**,
// [text](link) as its text, and lines of "- " or "1. " items as a list.
function markdown(para) {
    const inline = (text, into) => {
        for (const part of text.split(/(`[^`]+`|\*\*[^*]+\*\*|\[[^\]]+\]\([^)]*\))/)) {
            if (/^`.+`$/.test(part)) into.append(Object.assign(document.createElement("code"), { textContent: part.slice(1, -1) }));
            else if (/^\*\*.+\*\*$/.test(part)) into.append(Object.assign(document.createElement("strong"), { textContent: part.slice(2, -2) }));
            else if (/^\[.+\]\(.*\)$/.test(part)) inline(part.slice(1, part.indexOf("](")), into);
            else into.append(part);
        }
        return into;
    };
    const lines = para.split("\n");
    if (lines.every((l) => /^(- |\d+\. )/.test(l))) {
        const list = document.createElement(/^- /.test(lines[0]) ? "ul" : "ol");
        for (const l of lines) list.append(inline(l.replace(/^(- |\d+\. )/, ""), document.createElement("li")));
        return list;
    }
    return inline(lines.join(" "), document.createElement("p"));
}
init().catch((e) => { $("errors").textContent = `error: ${e.message || e}`; state("error"); });
