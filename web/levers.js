// The levers: the scenario's sliders (the engine's api::levers) and which policies run,
// kept as --set overrides. A moved slider keeps its number and its unit apart (never
// re-parsed from text), the chosen policies are a list, and a link's overrides that no
// lever shows are kept as written.

// A number with its unit, as a lever's value is written (e.g. "12", "0.7", "15m").
const NUMBER_AND_UNIT = /^(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(.*)$/;

export class Overrides {
    constructor() {
        // path -> { value, unit } (a slider) or { policies } (run.policies), in the order
        // they were first moved.
        this.moved = new Map();
        // [path, value] of a link that no lever shows.
        this.extra = [];
    }

    clear() { this.moved.clear(); this.extra = []; }

    // The overrides as --set pairs, in order.
    list() {
        const text = (v) => (v.policies ? JSON.stringify(v.policies) : `${v.value}${v.unit}`);
        return [...[...this.moved].map(([path, v]) => [path, text(v)]), ...this.extra];
    }

    // A link's overrides, given the scenario's levers: a slider's value in its unit moves
    // the slider, a list of the scenario's policies chooses them, anything else is kept
    // as written.
    fromLink(sets, levers) {
        this.clear();
        const sliders = new Map((levers ? levers.sliders : []).map((s) => [s.path, s]));
        for (const [path, value] of sets) {
            const s = sliders.get(path), m = NUMBER_AND_UNIT.exec(value);
            if (s && m && m[2] === s.unit) { this.moved.set(path, { value: Number(m[1]), unit: s.unit }); continue; }
            if (path === "run.policies" && levers) {
                let list = null;
                try { list = JSON.parse(value); } catch { /* kept as written */ }
                if (Array.isArray(list) && list.every((p) => levers.policies.includes(p))) { this.moved.set(path, { policies: list }); continue; }
            }
            this.extra.push([path, value]);
        }
    }

    // Removes the override `path = value`.
    remove(path, value) {
        this.extra = this.extra.filter(([p, v]) => p !== path || v !== value);
        const [, text] = this.list().find(([p]) => p === path) || [];
        if (text === value) this.moved.delete(path);
    }

    // The policies that run: those chosen, or all of `all`.
    running(all) {
        const v = this.moved.get("run.policies");
        return v ? v.policies : all;
    }
}

// Draws the levers of `levers` (the engine's answer) into `box`: a slider per lever (a
// moved one keeps its value) and a checkbox per policy; `changed()` follows every move.
export function renderLevers(box, levers, overrides, changed) {
    box.textContent = "";
    for (const s of levers.sliders) {
        const id = "lever-" + s.path.replace(/[^a-zA-Z0-9]+/g, "-");
        const label = document.createElement("label");
        label.htmlFor = id;
        const out = document.createElement("output");
        label.append(`${s.label}: `, out);
        const input = Object.assign(document.createElement("input"), { type: "range", id, min: s.min, max: s.max, step: s.step });
        input.dataset.path = s.path;
        const moved = overrides.moved.get(s.path);
        input.value = moved ? moved.value : s.value;
        const show = () => { out.textContent = input.value + s.unit; };
        input.oninput = () => { overrides.moved.set(s.path, { value: Number(input.value), unit: s.unit }); show(); changed(); };
        show();
        box.append(label, input);
    }
    // Which policies run (run.policies): all by default; each runs as in the full run.
    const chosen = overrides.running(levers.policies);
    const group = document.createElement("fieldset");
    group.append(Object.assign(document.createElement("legend"), { textContent: "Policies to run (the first is the baseline)" }));
    for (const name of levers.policies) {
        const id = "policy-" + name.replace(/[^a-zA-Z0-9]+/g, "-");
        const input = Object.assign(document.createElement("input"), { type: "checkbox", id, checked: chosen.includes(name) });
        input.dataset.path = "run.policies";
        input.dataset.policy = name;
        input.onchange = () => {
            const on = [...group.querySelectorAll("input:checked")].map((e) => e.dataset.policy);
            if (on.length === levers.policies.length) overrides.moved.delete("run.policies");
            else overrides.moved.set("run.policies", { policies: on });
            changed();
        };
        const label = Object.assign(document.createElement("label"), { htmlFor: id, className: "inline" });
        label.append(input, ` ${name}`);
        group.append(label);
    }
    box.append(group);
}
