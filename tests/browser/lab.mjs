// Drives the oversim lab (scripts/build-web.sh) in Debian's headless Chromium with
// playwright-core:
//   node lab.mjs URL CHROMIUM CLI_DIR SCREENSHOT SINGLE_FILE
// CLI_DIR holds `oversim run -r 20 --seed 7 --timeseries 24h --report` of the default
// scenario (the files and report the page must equal), and CLI_DIR/bad.txt the command
// line's message for bad.toml.
import fs from "node:fs";
import { chromium } from "playwright-core";

const [url, executablePath, cliDir, shot, single] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
const fail = (what) => { console.error(`FAILED: ${what}`); process.exitCode = 1; };
const settled = () => page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 180000 });
const text = (id) => page.$eval(id, (e) => e.textContent);
const FILES = ["replications", "summary", "comparison", "timeseries"];
// The page's report as the browser parsed it, and the command line's report.html's
// matching part parsed the same way (so both are compared after the same HTML parsing).
const shown = (p) => p.$eval("#report", (e) => e.innerHTML);
const cliReport = fs.readFileSync(`${cliDir}/report.html`, "utf8");

// 1. The test hook runs the default scenario; the files equal the command line's.
await page.goto(`${url}#scenario=default&replications=20&seed=7&run`);
await settled();
if ((await page.evaluate(() => document.body.dataset.state)) !== "done") fail(`the run ended in ${await text("#errors")}`);
for (const f of FILES) {
    const cli = fs.readFileSync(`${cliDir}/${f}.csv`, "utf8");
    if ((await text(`#csv-${f}`)) !== cli) fail(`${f}.csv differs from oversim run's`);
}
// The report: the engine's sections, byte for byte inside the command line's report.html.
const sections = await page.evaluate(() => window.oversimLast.report);
if (!cliReport.includes(sections)) fail("the page's report is not the command line's report.html");
const want = await page.evaluate((html) => {
    const d = document.createElement("div");
    d.innerHTML = html.slice(html.indexOf("<h2>Decision"), html.indexOf("<h2>Scenario"));
    return d.innerHTML;
}, cliReport);
if ((await shown(page)) !== want) fail("the page does not show the report's sections as they are");
const charts = await page.$$eval("#report svg", (es) => es.map((e) => e.getBoundingClientRect().width));
if (charts.length < 11 || charts.some((w) => !(w > 100))) fail(`the report's charts are missing or not drawn: ${charts}`);
if ((await page.$$("#report li")).length < 2) fail("no summary sentences");
// Each chart has a text alternative: its name, and the table of its numbers under it.
const alternatives = await page.$$eval("#report svg", (es) => es.filter((e) => e.getAttribute("role") === "img" && e.getAttribute("aria-label") && e.closest("figure")?.querySelector("details table tr td")).length);
if (alternatives !== charts.length) fail(`${charts.length - alternatives} charts have no text alternative`);
const bar = await page.$eval("#progress", (e) => [e.value, e.max]);
// It ends full, at least the 20 replications × 4 policies (each worker also runs the
// staffing rules' searches on every replication: web/run.sh counts those exactly).
if (bar[0] !== bar[1] || bar[1] < 80) fail(`the progress bar ends at ${bar[0]} of ${bar[1]}, not full at 80 or more (20 replications × 4 policies)`);
const ms = Number(await page.evaluate(() => document.body.dataset.ms));
const cores = await page.evaluate(() => navigator.hardwareConcurrency);
const first = await text("#csv-summary");
await page.screenshot({ path: shot, fullPage: true });

// One worker against the command line on one thread, 100 replications (CLI_DIR/native-ms).
await page.goto(`${url}#scenario=default&replications=100&seed=7&workers=1&run`);
await page.reload();
await settled();
const one = Number(await page.evaluate(() => document.body.dataset.ms));
const native = Number(fs.readFileSync(`${cliDir}/native-ms`, "utf8"));
if ((await text("#csv-summary")) !== fs.readFileSync(`${cliDir}/summary-100.csv`, "utf8")) fail("one worker's 100 replications differ from the command line's");

// 2. A lever changes the result, and the permalink reproduces it.
await page.fill("#replications", "6");
// By keyboard, as the page must be operable: eight steps of 5/h from 40/h, then Enter on Run.
await page.focus('[data-path="workload.rate"]');
for (let i = 0; i < 8; i++) await page.keyboard.press("ArrowRight");
const unlabelled = await page.$$eval("input, select, textarea", (es) => es.filter((e) => !e.labels.length && !e.getAttribute("aria-label")).map((e) => e.id));
if (unlabelled.length) fail(`controls without a label: ${unlabelled}`);
const levers = await page.$$eval("#levers input", (es) => es.map((e) => e.dataset.path));
for (const want of ["workload.rate", "workload.drift.every", "policy.per-action.review.detect", "policy.tiered.checks.detect", "policy.tiered.audit.sample", "workload.class.high-impact.harm"]) {
    if (!levers.includes(want)) fail(`no lever for ${want}: ${levers}`);
}
// Reviewers and thresholds staffed by a rule have no lever: the rule sets them at every run.
for (const ruled of ["policy.per-action.review.reviewers", "policy.tiered.spc.h"]) {
    if (levers.includes(ruled)) fail(`a lever for ${ruled}, which its staffing rule sets`);
}
await page.focus("#run");
await page.keyboard.press("Enter");
await settled();
const moved = await text("#csv-summary");
if (moved === first || !moved) fail("moving the AI-actions lever did not change the result");
if ((await shown(page)) === want) fail("moving the AI-actions lever did not change the report");
const link = await page.$eval("#permalink", (a) => a.getAttribute("href"));
if (!link.includes("set=workload.rate%3D80%2Fh")) fail(`the permalink does not carry the lever: ${link}`);
const again = await browser.newPage();
again.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
await again.goto(`${url}${link}&run`);
await again.waitForFunction(() => document.body.dataset.state === "done", null, { timeout: 180000 });
if ((await again.$eval("#csv-summary", (e) => e.textContent)) !== moved) fail("the permalink did not reproduce the run");

// Cancel stops a long run; the next run gives the same numbers as before.
await page.fill("#replications", "5000");
await page.click("#run");
await page.waitForFunction(() => document.querySelector("#progress").value > 0, null, { timeout: 60000 });
await page.click("#cancel");
if ((await page.evaluate(() => document.body.dataset.state)) !== "cancelled") fail("Cancel did not cancel");
await page.fill("#replications", "6");
await page.click("#run");
await settled();
if ((await text("#csv-summary")) !== moved) fail("the run after a cancelled one differs");

// Unticking a policy runs the others without it, with the numbers they had beside it (run.policies).
await page.uncheck("#policy-tiered");
await page.click("#run");
await settled();
const alone = (await text("#csv-summary")).split("\n");
const beside = moved.split("\n").filter((l) => !l.startsWith("tiered,"));
if (alone.join("\n") !== beside.join("\n")) fail("the other policies without tiered differ from the same policies beside it");
if (!(await page.$eval("#permalink", (a) => a.getAttribute("href"))).includes("run.policies")) fail("the permalink does not carry the policies");
await page.check("#policy-tiered");

// Explore: the exploration's files and report are `oversim explore`'s.
const explorer = await browser.newPage();
explorer.on("pageerror", (e) => problems.push(`explore: ${e.message}`));
explorer.on("console", (m) => { if (m.type() === "error") problems.push(`explore console: ${m.text()}`); });
await explorer.goto(`${url}#scenario=default&seed=7&points=2&explore-replications=3&explore`);
await explorer.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 180000 });
const explored = await explorer.evaluate(() => window.oversimLast);
for (const f of ["design.csv", "robustness.csv", "choice.csv", "pairwise.csv", "sensitivity.csv"]) {
    if (explored.files[f] !== fs.readFileSync(`${cliDir}/explore/${f}`, "utf8")) fail(`the exploration's ${f} differs from oversim explore's`);
}
if (!fs.readFileSync(`${cliDir}/explore/report.html`, "utf8").includes(explored.report)) fail("the exploration's report is not oversim explore's");
if ((await explorer.$$("#report svg")).length < 2) fail("the exploration's charts are not shown");
const sets = 8 * (11 + 2);
// The staffing rules' runs come on top of the sets' own (and a progress bar stops at its end).
if ((await explorer.$eval("#progress", (e) => e.value)) < sets * 3 * 4) fail("the exploration's progress does not count its replications");
const exploreLink = await explorer.$eval("#permalink", (a) => a.getAttribute("href"));
if (!exploreLink.includes("points=2")) fail("the exploration's permalink lacks its points");
if (!/[#&]explore(=|&|$)/.test(exploreLink)) fail(`the exploration's permalink does not rerun it: ${exploreLink}`);
// A decision map, as `oversim explore --map` draws it.
await explorer.goto(`${url}#scenario=default&seed=7&explore-replications=3&map=policy.*.review.detect,workload.class.high-impact.harm&grid=3&explore`);
await explorer.reload();
await explorer.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 180000 });
const mapped = await explorer.evaluate(() => window.oversimLast);
if (mapped.files["map.csv"] !== fs.readFileSync(`${cliDir}/map/map.csv`, "utf8")) fail("the page's map.csv differs from oversim explore --map's");
if (!fs.readFileSync(`${cliDir}/map/report.html`, "utf8").includes(mapped.report)) fail("the page's map report is not oversim explore's");
if (!(await explorer.$eval("#permalink", (a) => a.getAttribute("href"))).includes("grid=3")) fail("the map's permalink lacks its grid");
await explorer.close();

// 3. A bad scenario shows the command line's message.
await page.fill("#toml", fs.readFileSync(`${cliDir}/bad.toml`, "utf8"));
await page.click("#run");
await settled();
const message = fs.readFileSync(`${cliDir}/bad.txt`, "utf8").trim();
if ((await page.evaluate(() => document.body.dataset.state)) !== "error") fail("a bad scenario did not end in data-state=error");
if ((await text("#errors")).trim() !== message) fail(`the message differs:\n${await text("#errors")}\nwanted:\n${message}`);

// Phone width: nothing wider than the screen (tables scroll in place, charts shrink);
// print: the controls are hidden and the report is laid out as a PDF.
await page.setViewportSize({ width: 390, height: 844 });
const wide = await page.evaluate(() => document.documentElement.scrollWidth);
if (wide > 390) fail(`at phone width the page is ${wide} px wide`);
await page.setViewportSize({ width: 1280, height: 1400 });
await page.emulateMedia({ media: "print" });
const hidden = await page.$$eval("textarea, button, #levers-box", (es) => es.every((e) => !e.checkVisibility()));
if (!hidden) fail("printing shows the controls");
const pdf = await page.pdf({ format: "A4" });
if (pdf.length < 20000) fail(`the printed PDF is only ${pdf.length} bytes`);
await page.emulateMedia({ media: "screen" });

// 4. Lesson mode loads a lesson's scenario and text (the page holds the bad edit above:
// dismissing the question keeps it, accepting it switches).
page.once("dialog", (d) => d.dismiss());
await page.selectOption("#lesson", "0");
if ((await page.$eval("#scenario", (e) => e.value)) !== "default" || !(await page.$eval("#toml", (e) => e.value)).includes("reviewrs")) fail("switching a lesson discarded the user's edits without asking");
page.once("dialog", (d) => d.accept());
await page.selectOption("#lesson", "0");
if ((await page.$eval("#scenario", (e) => e.value)) !== "rubber-stamping") fail("lesson 1 did not load its scenario");
if (!(await text("#lesson-text")).includes("An agent takes 60 actions an hour")) fail("lesson 1's text is not shown");

// 6. Safe to share (issue 23): what a link cannot do.
const fresh = async (hash, width = 1366, height = 768) => {
    const p = await browser.newPage({ viewport: { width, height } });
    p.on("pageerror", (e) => problems.push(`safety page error: ${e.message}`));
    p.on("console", (m) => { if (m.type() === "error") problems.push(`safety console: ${m.text()}`); });
    await p.goto(`${url}#${hash}`);
    await p.waitForFunction(() => ["ready", "done", "error"].includes(document.body.dataset.state), null, { timeout: 180000 });
    return p;
};
const settle = (p) => p.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 180000 });
const of = (p, sel) => p.$eval(sel, (e) => e.textContent);
{
    // Overrides a link sets that no lever shows are listed above Run and in the results'
    // header, each removable; an edited file that keeps the shipped name says it is edited.
    const sets = ["policy.tiered.review.complacency=4", "policy.tiered.checks.false_positive=0.6", "policy.tiered.audit.late_harm_factor=1", "policy.per-action.review.false_reject=0"];
    const p = await fresh(`scenario=default&replications=4&seed=7&${sets.map((x) => "set=" + encodeURIComponent(x)).join("&")}&run`);
    await settle(p);
    const listed = await of(p, "#override-list"), header = await of(p, "#run-header");
    for (const x of sets) {
        const [k, v] = x.split("=");
        if (!listed.includes(`${k} = ${v}`)) fail(`the override ${x} is not listed above Run: ${listed}`);
        if (!header.includes(`${k} = ${v}`)) fail(`the override ${x} is not in the results' header: ${header}`);
    }
    if (!listed.includes("no lever shows it")) fail("overrides without a lever are not marked");
    if (!header.includes("the shipped file, as written")) fail(`the header does not say the file is the shipped one: ${header}`);
    await p.click('button[aria-label="remove the override policy.tiered.review.complacency"]');
    if ((await of(p, "#override-list")).includes("complacency")) fail("removing an override left it listed");
    const summary = await of(p, "#csv-summary");
    await p.click("#run"); await settle(p);
    if ((await of(p, "#csv-summary")) === summary) fail("removing an override did not change the run");
    await p.fill("#toml", (await p.$eval("#toml", (e) => e.value)).replace("reviewers = 1 ", "reviewers = 2 "));
    await p.click("#run"); await settle(p);
    if (!(await of(p, "#edited-note")).includes("edited")) fail("an edited file is not marked above Run");
    if (!(await of(p, "#run-header")).includes("edited: it differs from the shipped scenarios/default.toml")) fail("an edited file is not marked in the header");
    // Results in view after Run at 1366×768; the manifest among the downloads.
    const top = await p.$eval("#results", (e) => e.getBoundingClientRect().top);
    if (!(top >= 0 && top < 768)) fail(`after Run the results are ${top} px down, out of view`);
    if (!(await of(p, "#downloads")).includes("manifest.json")) fail("no manifest among the downloads");
    // On a phone the charts keep their size (readable text) and scroll in their row; the
    // page is no wider than the screen.
    await p.setViewportSize({ width: 390, height: 844 });
    const scale = await p.$$eval("#report svg", (es) => Math.min(...es.map((e) => e.getBoundingClientRect().width / e.width.baseVal.value)));
    if (!(scale > 0.99)) fail(`on a phone the charts are drawn at ${scale} of their size (small text)`);
    const phoneWide = await p.evaluate(() => document.documentElement.scrollWidth);
    if (phoneWide > 390) fail(`with charts, at phone width the page is ${phoneWide} px wide`);
    await p.setViewportSize({ width: 1366, height: 768 });
    // An error marks the old results: they are cleared, and the message is in view.
    await p.fill("#toml", "[run\n");
    await p.click("#run"); await settle(p);
    if ((await p.$$("#report svg")).length || (await of(p, "#downloads")) || (await p.$eval("#permalink", (a) => a.getAttribute("href")))) fail("an error left the previous results on screen");
    const etop = await p.$eval("#errors", (e) => e.getBoundingClientRect().top);
    if (!(etop >= 0 && etop < 768)) fail(`the error is ${etop} px down, out of view`);
    await p.close();
}
{
    // A deflate bomb: a 30 MB scenario in a 40 KB link is refused; the page stays able to run.
    const { deflateRawSync } = await import("node:zlib");
    const b64 = (buf) => buf.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const bomb = b64(deflateRawSync(Buffer.alloc(30 * 1024 * 1024, 0x61)));
    if (bomb.length > 65536) fail(`the test's bomb is ${bomb.length} characters`);
    let p = await fresh(`toml=${bomb}&run`);
    if (!(await of(p, "#errors")).includes("inflates to more than 1048576 bytes")) fail(`the deflate bomb was not refused: ${await of(p, "#errors")}`);
    if ((await p.evaluate(() => document.body.dataset.state)) !== "ready") fail("after a deflate bomb the page is not ready");
    await p.close();
    p = await fresh(`toml=${"A".repeat(70000)}`);
    if (!(await of(p, "#errors")).includes("more than the 65536 a lab link may have")) fail("a huge fragment was not refused");
    await p.close();
    // A damaged link falls back to the named scenario, and a run then works.
    p = await fresh("scenario=governance-b12&toml=not*a*scenario&run");
    if (!(await of(p, "#errors")).includes("this link's scenario cannot be read")) fail(`a damaged link: ${await of(p, "#errors")}`);
    if ((await p.$eval("#scenario", (e) => e.value)) !== "governance-b12") fail("a damaged link did not fall back to the named scenario");
    // The rate lever shows governance-b12's own 500/h, and the file's replications and seed.
    if ((await p.$eval('[data-path="workload.rate"]', (e) => e.value)) !== "500") fail("the rate lever does not show governance-b12's 500/h");
    if ((await p.$eval("#seed", (e) => e.value)) !== "12" || (await p.$eval("#replications", (e) => e.value)) !== "50") fail("the file's replications and seed are not used");
    await p.fill("#replications", "2");
    await p.click("#run"); await settle(p);
    if ((await p.evaluate(() => document.body.dataset.state)) !== "done") fail(`after a damaged link a run fails: ${await of(p, "#errors")}`);
    await p.close();
    // A time series the engine cannot hold is refused with its numbers, not a trap.
    p = await fresh("replications=2&seed=7&timeseries=0.0001&run");
    await settle(p);
    if (!(await of(p, "#errors")).includes("a time series in intervals of 0.36s records")) fail(`a tiny time-series step: ${await of(p, "#errors")}`);
    await p.close();
    // Workers are clamped to the machine's cores.
    p = await fresh("replications=4&seed=7&workers=400&run");
    await settle(p);
    const used = Number((await of(p, "#status")).match(/on (\d+) worker/)[1]);
    if (!(used >= 1 && used <= cores)) fail(`400 workers asked, ${used} used on ${cores} cores`);
    await p.close();
    // Seeds: text that is not a number, or beyond run.seed's range, is refused plainly; a
    // seed above 2^53 runs exactly.
    p = await fresh("seed=abc&run");
    await settle(p);
    if (!(await of(p, "#errors")).includes("seed: “abc” is not a whole number from 0 to 9223372036854775807")) fail(`seed=abc: ${await of(p, "#errors")}`);
    await p.close();
    p = await fresh("replications=2&seed=9007199254740993&run");
    await settle(p);
    if (!(await p.evaluate(() => window.oversimLast.files["manifest.json"])).includes('"seed": 9007199254740993,')) fail("a seed above 2^53 was rounded");
    await p.close();
    // Lessons run every scenario they name, and render their Markdown as text.
    p = await fresh("");
    await p.selectOption("#lesson", "3");
    const buttons = await p.$$eval("#lesson-text button", (es) => es.map((e) => e.dataset.scenario));
    if (buttons.join() !== "layered-defence,layered-defence-correlated") fail(`lesson 4's scenarios: ${buttons}`);
    await p.fill("#replications", "2");
    await p.click('#lesson-text button[data-scenario="layered-defence-correlated"]');
    await settle(p);
    if (!(await of(p, "#run-header")).includes("scenarios/layered-defence-correlated.toml")) fail("lesson 4's second scenario did not run");
    await p.selectOption("#lesson", "6");
    if ((await p.$$("#lesson-text code")).length < 1) fail("lesson 7's Markdown is shown raw");
    if ((await of(p, "#lesson-text")).includes("`")) fail("lesson 7's text shows backticks");
    // Disabled buttons look disabled; the error text has WCAG AA contrast.
    const look = await p.evaluate(() => {
        const c = document.querySelector("#cancel"), r = document.querySelector("#run");
        return [getComputedStyle(c).backgroundColor, getComputedStyle(r).backgroundColor, getComputedStyle(document.querySelector("#errors")).color];
    });
    if (look[0] === look[1]) fail("a disabled button looks like an enabled one");
    if (look[2] !== "rgb(168, 67, 0)") fail(`the error colour is ${look[2]}`);
    if (!(await p.$('meta[http-equiv="Content-Security-Policy"]'))) fail("the page has no Content-Security-Policy");
    await p.close();
}
// 5. The single file, opened from file://, gives the same files.
const offline = await browser.newPage();
offline.on("pageerror", (e) => problems.push(`single file: ${e.message}`));
offline.on("console", (m) => { if (m.type() === "error") problems.push(`single file console: ${m.text()}`); });
await offline.goto(`file://${single}#scenario=default&replications=20&seed=7&run`);
await offline.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 180000 });
for (const f of FILES) {
    const cli = fs.readFileSync(`${cliDir}/${f}.csv`, "utf8");
    if ((await offline.$eval(`#csv-${f}`, (e) => e.textContent)) !== cli) fail(`the single file's ${f}.csv differs from oversim run's`);
}
if ((await shown(offline)) !== want) fail("the single file's report differs");

for (const p of problems) fail(p);
await browser.close();
if (!process.exitCode) {
    console.log(`lab: default scenario, 20 replications: ${ms} ms on ${cores} workers, 100 replications: ${one} ms on one worker, native one thread ${native} ms (${(one / native).toFixed(2)}×); CSVs and report identical to the CLI's, also from the single file over file://; lever, permalink, Cancel, policy choice, keyboard, phone, print, explore, lesson and bad-input checks passed`);
}
