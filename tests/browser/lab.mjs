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
    d.innerHTML = html.slice(html.indexOf("<h2>Summary"), html.indexOf("<h2>Scenario"));
    return d.innerHTML;
}, cliReport);
if ((await shown(page)) !== want) fail("the page does not show the report's sections as they are");
const charts = await page.$$eval("#report svg", (es) => es.map((e) => e.getBoundingClientRect().width));
if (charts.length < 11 || charts.some((w) => !(w > 100))) fail(`the report's charts are missing or not drawn: ${charts}`);
if ((await page.$$("#report li")).length < 2) fail("no summary sentences");
const bar = await page.$eval("#progress", (e) => [e.value, e.max]);
if (bar[0] !== 40 || bar[1] !== 40) fail(`the progress bar ends at ${bar[0]} of ${bar[1]}, not 40 of 40 (20 replications × 2 policies)`);
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
for (const want of ["workload.rate", "workload.drift.every", "policy.per-action.review.reviewers", "policy.tiered.checks.detect", "policy.tiered.audit.sample", "policy.tiered.spc.h", "workload.class.high-impact.harm"]) {
    if (!levers.includes(want)) fail(`no lever for ${want}: ${levers}`);
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

// Unticking a policy runs the other alone, with the numbers it had beside it (run.policies).
await page.uncheck("#policy-tiered");
await page.click("#run");
await settled();
const alone = (await text("#csv-summary")).split("\n");
const beside = moved.split("\n").filter((l) => !l.startsWith("tiered,"));
if (alone.join("\n") !== beside.join("\n")) fail("per-action alone differs from per-action beside tiered");
if (!(await page.$eval("#permalink", (a) => a.getAttribute("href"))).includes("run.policies")) fail("the permalink does not carry the policies");
await page.check("#policy-tiered");

// Explore: the exploration's files and report are `oversim explore`'s.
const explorer = await browser.newPage();
explorer.on("pageerror", (e) => problems.push(`explore: ${e.message}`));
explorer.on("console", (m) => { if (m.type() === "error") problems.push(`explore console: ${m.text()}`); });
await explorer.goto(`${url}#scenario=default&seed=7&points=8&explore-replications=3&explore`);
await explorer.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 180000 });
const explored = await explorer.evaluate(() => window.oversimLast);
for (const f of ["design.csv", "robustness.csv", "pairwise.csv", "sensitivity.csv"]) {
    if (explored.files[f] !== fs.readFileSync(`${cliDir}/explore/${f}`, "utf8")) fail(`the exploration's ${f} differs from oversim explore's`);
}
if (!fs.readFileSync(`${cliDir}/explore/report.html`, "utf8").includes(explored.report)) fail("the exploration's report is not oversim explore's");
if ((await explorer.$$("#report svg")).length < 2) fail("the exploration's charts are not shown");
const sets = 8 * (10 + 2);
if ((await explorer.$eval("#progress", (e) => e.value)) !== sets * 3 * 2) fail("the exploration's progress does not count its replications");
if (!(await explorer.$eval("#permalink", (a) => a.getAttribute("href"))).includes("points=8")) fail("the exploration's permalink lacks its points");
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

// 4. Lesson mode loads a lesson's scenario and text.
await page.selectOption("#lesson", "0");
if ((await page.$eval("#scenario", (e) => e.value)) !== "rubber-stamping") fail("lesson 1 did not load its scenario");
if (!(await text("#lesson-text")).includes("An agent takes 60 actions an hour")) fail("lesson 1's text is not shown");

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
