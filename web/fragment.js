// The lab's permalinks: what a link asks for, read from its fragment, and the fragment
// that reproduces a run. A link is somebody else's: its length and what its scenario
// inflates to are capped, and a damaged link falls back to the named or default scenario
// with a message saying why.
//   #scenario=NAME&toml=DEFLATED&replications=R&seed=S&timeseries=H&set=PATH=VALUE...
//   &run | &explore (&points=N&explore-replications=R, or &map=PATH1,PATH2&grid=G)
//   &workers=N

// Caps on what a link may ask for: its fragment's length and the scenario text it
// inflates to (the largest shipped scenario is under 20 KB).
export const MAX_FRAGMENT = 64 * 1024, MAX_TOML = 1024 * 1024;
// The run settings a link may carry, by the id of their field.
export const SETTINGS = ["replications", "seed", "points", "grid", "explore-replications", "timeseries"];

const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

export async function deflate(text) {
    const s = new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw"));
    const bytes = new Uint8Array(await new Response(s).arrayBuffer());
    let bin = ""; for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// A link's scenario text, inflated; at most `cap` bytes (a small link can inflate to
// gigabytes), with a plain message if it is damaged.
export async function inflate(b64, cap) {
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

// What the fragment `hash` (without "#") asks for, given the shipped scenarios:
// { scenario, text (an edited scenario, or null), settings (id -> value), sets
// ([path, value] in order), map ([x, y]), go ("run", "explore" or null), workers (a number
// or null), problem (why the link was not followed, or null) }.
export async function readFragment(hash, scenarios) {
    const link = { scenario: "default", text: null, settings: {}, sets: [], map: ["", ""], go: null, workers: null, problem: null };
    if (hash.length > MAX_FRAGMENT) {
        link.problem = `this link is ${hash.length} characters long, more than the ${MAX_FRAGMENT} a lab link may have; the default scenario is shown instead`;
        return link;
    }
    const p = new URLSearchParams(hash);
    const name = p.get("scenario");
    if (name && has(scenarios, name)) link.scenario = name;
    const workers = Number(p.get("workers"));
    if (p.has("workers") && Number.isInteger(workers) && workers >= 1) link.workers = workers;
    if (p.has("toml")) {
        try { link.text = await inflate(p.get("toml"), MAX_TOML); } catch (e) {
            link.problem = `this link's scenario cannot be read (${e.message}); the shipped scenarios/${link.scenario}.toml is shown instead`;
            return link;
        }
    }
    for (const id of SETTINGS) if (p.has(id)) link.settings[id] = p.get(id);
    for (const s of p.getAll("set")) {
        const i = s.indexOf("=");
        if (i >= 1) link.sets.push([s.slice(0, i), s.slice(i + 1)]);
    }
    const [x = "", y = ""] = (p.get("map") || "").split(",");
    link.map = [x, y];
    link.go = p.has("explore") ? "explore" : p.has("run") ? "run" : null;
    return link;
}

// The fragment (with "#") that reproduces a run: `view` is { scenario, text (the edited
// scenario, or null), settings (id -> value), explored, map ([x, y] or null), overrides
// ([path, value]) }.
export async function writeFragment(view) {
    const p = new URLSearchParams();
    p.set("scenario", view.scenario);
    if (view.text !== null) p.set("toml", await deflate(view.text));
    for (const id of ["replications", "seed", "timeseries"]) p.set(id, view.settings[id]);
    if (view.explored) {
        p.set("points", view.settings.points); p.set("explore-replications", view.settings["explore-replications"]);
        if (view.map) { p.set("map", view.map.join(",")); p.set("grid", view.settings.grid); }
        p.set("explore", "");
    }
    for (const [path, v] of view.overrides) p.append("set", `${path}=${v}`);
    return "#" + p.toString();
}
