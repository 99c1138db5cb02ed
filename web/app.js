// The oversim lab page: scenario, levers (as --set overrides), a run split over Web Workers
// (one shard each) and merged by the core as `oversim merge` does, the results, downloads
// and a permalink. Test hook: #scenario=default&replications=20&seed=7&run runs on load
// (&workers=N sets the workers; the default is one per core; &explore instead of &run
// explores, with &points=N&explore-replications=R, or a map with &map=PATH1,PATH2&grid=G);
// body[data-state] becomes "done" or "error"; #csv-* hold the files; #errors the message;
// window.oversimLast is the engine's last answer (files, sentences, report HTML).
// A link is somebody else's (fragment.js): what it sets is listed above Run (each
// removable) and in the results' header, and its workers are clamped to the machine's
// cores. Bundled with its modules by scripts/build-web.sh.
import { oversimCore } from "./core.js";
import { readFragment, writeFragment, SETTINGS } from "./fragment.js";
import { Overrides, renderLevers } from "./levers.js";
import { Pool } from "./pool.js";

const $ = (id) => document.getElementById(id);
const SCENARIOS = window.OVERSIM_SCENARIOS;
const LESSONS = window.OVERSIM_LESSONS || [];
const MAX_SEED = 9223372036854775807n, MAX_REPLICATIONS = 100000;
const WARM_UP = { replications: 4, seed: 1, text: SCENARIOS.default };
const cores = () => Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 64));

// The page's state, in one place.
const lab = {
    // The engine: its compiled module and a call into an instance on this thread.
    module: null,
    core: null,
    pool: null,
    // The shipped scenario the page loaded (the TOML may be an edit of it).
    current: "default",
    // The levers of the scenario's text (the engine's answer), or null while it has errors.
    levers: null,
    overrides: new Overrides(),
    // Whether the last result is an exploration (the permalink says so).
    explored: false,
    // The object URLs of the last result's downloads (revoked when replaced).
    downloads: [],
};

const setState = (s) => { document.body.dataset.state = s; };
const busy = (b) => { $("run").disabled = b; $("explore").disabled = b; $("cancel").disabled = !b; };
const status = (s) => { $("status").textContent = s; };
const edited = () => $("toml").value !== SCENARIOS[lab.current];
const labelOf = () => (edited() ? "scenario.toml" : lab.current === "default" ? "<default scenario>" : `scenarios/${lab.current}.toml`);
// How many policies a run compares: those chosen, or all.
const running = () => lab.overrides.running(lab.levers ? lab.levers.policies : [""]).length;
const uncertain = () => (lab.levers ? lab.levers.uncertain.length : 0);

// The scenario text's levers, from the engine (null while it has errors).
function readLevers() {
    const r = lab.core("oversim_levers", { label: labelOf(), text: $("toml").value });
    lab.levers = r.ok ? r : null;
    return lab.levers;
}

// Draws the levers of the text as it stands, the exploration's inputs and the overrides.
function showLevers() {
    const box = $("levers"), r = lab.levers;
    if (!r) {
        box.textContent = "(the scenario has errors; its levers appear when it is valid)";
        showOverrides();
        return;
    }
    for (const id of ["map-x", "map-y"]) {
        const sel = $(id), keep = sel.value;
        while (sel.options.length > 1) sel.remove(1);
        for (const path of r.uncertain) sel.add(new Option(path, path));
        sel.value = r.uncertain.includes(keep) ? keep : "";
    }
    $("explore-box").hidden = uncertain() === 0;
    $("explore-what").textContent = `This scenario's [uncertain] table has ${uncertain()} inputs: an exploration draws sets of them, runs every policy at each, and reports how often each policy is best and which inputs move the difference. Small designs are quick but their sensitivity intervals are wide; N = 64 or more gives firm ones (see docs/explore.md).`;
    renderLevers(box, r, lab.overrides, showOverrides);
    showOverrides();
}

// What a run will run, above Run: the file (shipped or edited) and every override, each
// with a button that removes it. A link's overrides that no lever shows are listed too.
function showOverrides() {
    const note = $("edited-note");
    note.textContent = "";
    note.append(edited()
        ? `The scenario file is edited: it differs from the shipped scenarios/${lab.current}.toml. `
        : `The shipped scenarios/${lab.current}.toml, as written. `);
    if (edited()) {
        const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: "restore the shipped file" });
        b.onclick = () => loadScenario(lab.current);
        note.append(b);
    }
    const list = $("override-list");
    list.textContent = "";
    const shown = new Set([...document.querySelectorAll("#levers input")].map((e) => e.dataset.path));
    for (const [path, value] of lab.overrides.list()) {
        const li = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = `${path} = ${value}`;
        const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: "remove" });
        b.setAttribute("aria-label", `remove the override ${path}`);
        b.onclick = () => { lab.overrides.remove(path, value); showLevers(); };
        li.append(code, shown.has(path) ? "" : " (no lever shows it)", b);
        list.append(li);
    }
    if (!list.children.length) list.append(Object.assign(document.createElement("li"), { textContent: "no overrides" }));
}

// Loads shipped scenario `name` (or `text` in its place, as a link's edit): its text,
// levers, run settings and time step; the overrides are cleared.
function loadScenario(name, text = SCENARIOS[name]) {
    lab.current = name;
    $("scenario").value = name;
    $("toml").value = text;
    lab.overrides.clear();
    const r = readLevers();
    if (r) { $("replications").value = r.replications; $("seed").value = r.seed; }
    $("timeseries").value = seriesStep();
    showLevers();
}

// Asks before a switch discards the user's edits of the scenario file.
const keepEdits = () => edited() && !window.confirm(`Discard your edits to the scenario file (scenarios/${lab.current}.toml)?`);

// About thirty points of time series over the scenario's horizon, at a round step.
function seriesStep() {
    const steps = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168];
    const want = (lab.levers ? lab.levers.horizon_hours : 720) / 30;
    return steps.reduce((a, b) => (Math.abs(Math.log(b / want)) < Math.abs(Math.log(a / want)) ? b : a));
}

// The map's two inputs, if two different ones are chosen.
function mapAxes() {
    const [x, y] = [$("map-x").value, $("map-y").value];
    return x && y && x !== y ? [x, y] : null;
}

// Applies a link (fragment.js's reading of it) in one pass: the scenario, its settings,
// the overrides, then the levers drawn once.
function applyLink(link) {
    lab.current = link.scenario;
    $("scenario").value = link.scenario;
    $("toml").value = link.text ?? SCENARIOS[link.scenario];
    const r = readLevers();
    if (r) { $("replications").value = r.replications; $("seed").value = r.seed; }
    $("timeseries").value = seriesStep();
    for (const id of SETTINGS) if (link.settings[id] !== undefined) $(id).value = link.settings[id];
    lab.overrides.fromLink(link.sets, r);
    showLevers();
    [$("map-x").value, $("map-y").value] = link.map;
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
    p(explore ? "Exploration of " : "Run of ", b(labelOf()), edited() ? ` — edited: it differs from the shipped scenarios/${lab.current}.toml` : " — the shipped file, as written", `; ${reps} replications, seed ${seed}.`);
    const o = lab.overrides.list();
    p(o.length ? `Overrides (${o.length}): ` : "Overrides: none.", o.map(([k, v]) => `${k} = ${v}`).join("; "));
}

// The result files as downloads; the previous result's object URLs are released.
function showDownloads(files) {
    for (const url of lab.downloads) URL.revokeObjectURL(url);
    lab.downloads = [];
    const box = $("downloads");
    box.textContent = "";
    Object.keys(files).sort().forEach((f, i) => {
        const url = URL.createObjectURL(new Blob([files[f]], { type: "text/csv" }));
        lab.downloads.push(url);
        if (i > 0) box.append(" · ");
        box.append(Object.assign(document.createElement("a"), { download: f, href: url, textContent: f }));
    });
}

// An error: the message in view, the old results cleared (they are not this run's).
function showFailure(message) {
    $("errors").textContent = message;
    for (const id of ["report", "run-header"]) $(id).textContent = "";
    showDownloads({});
    $("report").append(Object.assign(document.createElement("p"), { className: "note err", textContent: "No results: the last run did not finish (see the message above)." }));
    for (const f of ["replications", "summary", "comparison", "timeseries"]) $(`csv-${f}`).textContent = "";
    $("permalink").removeAttribute("href");
    window.oversimLast = null;
    busy(false);
    status("the run failed");
    setState("error");
    $("errors").scrollIntoView({ block: "nearest" });
}

// A run, or with explore an exploration (a Sobol design over the [uncertain] inputs, or a
// decision map over two of them).
async function run(explore = false) {
    try { await attempt(explore); } catch (e) { showFailure(`error: ${e.message || e}`); }
}

async function attempt(explore) {
    // An edited file's levers are those of the text that runs.
    readLevers();
    showLevers();
    $("errors").textContent = "";
    const { reps, seed } = settings(explore);
    setState("running");
    busy(true);
    $("status").scrollIntoView({ block: "nearest" });
    const n = Math.max(1, Math.min(lab.pool.size, reps));
    const series = Number($("timeseries").value);
    const base = { label: labelOf(), text: $("toml").value, overrides: [...lab.overrides.list(), ["run.seed", seed]], replications: reps };
    const map = explore && mapAxes(), grid = Number($("grid").value);
    const sets = !explore ? 1 : map ? grid * grid : Number($("points").value) * (uncertain() + 2);
    if (explore) base.explore = { design: "sobol", points: Number($("points").value), metric: "net_value", bootstrap: 1000 };
    if (map) base.explore.map = { paths: map, grid, others: "base" };
    if (!explore && series > 0) base.timeseries = series;
    // One tick per replication of each policy (at each set), from every worker.
    const total = sets * reps * running();
    const workers = `on ${n} worker${n > 1 ? "s" : ""}`;
    let done = 0;
    $("progress").max = total; $("progress").value = 0;
    status(`running ${reps} replications ${workers}…`);
    const t0 = performance.now();
    const requests = [...Array(n)].map((_, k) => (n > 1 ? { ...base, shard: [k, n] } : base));
    const parts = await lab.pool.run("oversim_run", requests, (more) => {
        done += more;
        if (done > $("progress").max) $("progress").max = done;
        $("progress").value = done;
        const each = explore ? `${reps} of each of ${running()} policies at ${sets} sets` : `${reps} of each of ${running()} policies`;
        status(`running: ${done} of ${total} replications (${each}) ${workers}…`);
    });
    if (!parts || document.body.dataset.state !== "running") return;
    const failed = parts.find((r) => !r.ok);
    const out = failed || (n > 1
        ? lab.core("oversim_merge", { shards: parts.map((r, k) => ({ origin: `worker ${k}`, files: r.files })) })
        : parts[0]);
    if (!out.ok) { showFailure(out.error); return; }
    busy(false);
    const ms = performance.now() - t0;
    lab.explored = explore;
    for (const f of ["replications", "summary", "comparison", "timeseries"]) $(`csv-${f}`).textContent = out.files[`${f}.csv`] || "";
    // The report's findings (sentences, table, charts): HTML the engine wrote and escaped,
    // the same as `oversim report` draws.
    $("report").innerHTML = out.report;
    showHeader(explore, reps, seed);
    window.oversimLast = out;
    showDownloads(out.files);
    const values = Object.fromEntries(SETTINGS.map((id) => [id, $(id).value]));
    $("permalink").href = await writeFragment({ scenario: lab.current, text: edited() ? $("toml").value : null, settings: values, explored: explore, map: mapAxes(), overrides: lab.overrides.list() });
    const what = explore ? `an exploration of ${sets} sets × ${reps} replications` : `${reps} replications`;
    status(`done: ${what} ${workers} in ${(ms / 1000).toFixed(2)} s`);
    document.body.dataset.ms = ms.toFixed(0);
    setState("done");
    $("results").scrollIntoView({ block: "start" });
}

// The lesson `index` (of docs/teaching.md): its text, and a button for each scenario it
// names, which loads and runs it.
function showLesson(index) {
    const l = LESSONS[Number(index)];
    $("lesson-text").textContent = "";
    if (index === "" || !l) return;
    loadScenario(l.scenarios[0]);
    const row = document.createElement("p");
    for (const name of l.scenarios) {
        const b = Object.assign(document.createElement("button"), { type: "button", className: "secondary", textContent: `Run scenarios/${name}.toml` });
        b.dataset.scenario = name;
        b.onclick = () => { if (keepEdits()) return; loadScenario(name); run(false); };
        row.append(b);
    }
    $("lesson-text").append(row, ...l.text.map(markdown));
}

// The engine, compiled: the single-file build inlines it (base64); the site serves
// oversim.wasm, compiled as it streams in (and then cached compiled by browsers that do
// so), or from its bytes where the server does not send it as application/wasm.
async function compile() {
    if (window.OVERSIM_WASM) return WebAssembly.compile(Uint8Array.from(atob(window.OVERSIM_WASM), (c) => c.charCodeAt(0)));
    const response = await fetch("oversim.wasm");
    return WebAssembly.compileStreaming(response.clone()).catch(async () => WebAssembly.compile(await response.arrayBuffer()));
}

// Everything is ready (the engine, the workers, the link applied) before any control is
// wired, so no handler can run against a half-built page.
async function init() {
    for (const name of Object.keys(SCENARIOS)) $("scenario").add(new Option(name, name));
    LESSONS.forEach((l, i) => $("lesson").add(new Option(l.title, String(i))));
    lab.module = await compile();
    lab.core = await oversimCore(lab.module);
    const link = await readFragment(location.hash.slice(1), SCENARIOS);
    applyLink(link);
    // The single-file build carries the workers' script; the site serves worker.js.
    const url = window.OVERSIM_WORKER ? URL.createObjectURL(new Blob([window.OVERSIM_WORKER], { type: "text/javascript" })) : "worker.js";
    // At most one worker a core: a link cannot start hundreds.
    lab.pool = new Pool(lab.module, url, Math.min(link.workers ?? cores(), cores()));
    // A run asked for on load warms the workers itself.
    lab.pool.start(link.go ? null : WARM_UP);

    let lesson = "";
    $("lesson").onchange = () => {
        if (keepEdits()) { $("lesson").value = lesson; return; }
        lesson = $("lesson").value;
        showLesson(lesson);
    };
    $("scenario").onchange = () => {
        if (keepEdits()) { $("scenario").value = lab.current; return; }
        loadScenario($("scenario").value);
    };
    $("reset").onclick = () => { lab.overrides.clear(); showLevers(); };
    $("run").onclick = () => run(false);
    $("explore").onclick = () => run(true);
    $("cancel").onclick = () => {
        lab.pool.cancel(WARM_UP);
        busy(false); status("cancelled"); setState("cancelled");
    };
    setState("ready");
    status("ready");
    if (link.problem) $("errors").textContent = `error: ${link.problem}`;
    if (link.go) run(link.go === "explore");
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

init().catch((e) => { $("errors").textContent = `error: ${e.message || e}`; setState("error"); });
