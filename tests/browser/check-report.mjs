// Opens a cwexport HTML plan report in Debian's Chromium through
// playwright-core and checks it as a reader would: the page loads with no
// console error, the filter narrows the heatmap, the totals, the lanes'
// projected timeline and the savings of skip_empty and coalesce shown equal
// the JSON plan's, a heatmap cell shows its
// details on hover, nothing overflows a 1280-px window; then saves a
// screenshot.
//
// usage: node check-report.mjs REPORT.html PLAN.json SCREENSHOT.png FILTER
// Prints one JSON object of what it found; exits 1 when a check fails.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [html, planPath, shot, query] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(planPath, "utf8"));
const failures = [];
const found = {};
const check = (ok, what) => { if (!ok) failures.push(what); };

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "cwx-browser-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  // Nothing but the file itself may be fetched.
  const requests = [];
  page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
  await page.goto(pathToFileURL(path.resolve(html)).href);
  await page.waitForSelector('body[data-rendered="1"]', { timeout: 30000 });
  const body = async () => page.evaluate(() => ({ ...document.body.dataset }));

  const before = await body();
  found.before = before;
  check(before.errors === "0", "script errors: " + before.errors);

  // The filter narrows the heatmap to the groups whose name holds the text
  // (a row per group of each account and region).
  const groups = new Set(plan.jobs.map((j) => [j.account, j.region, j.log_group].join(" ")));
  const expect = [...groups].filter((g) => g.toLowerCase().includes(query.toLowerCase())).length;
  await page.fill("#filter", query);
  await page.waitForFunction((n) => document.body.dataset.rows === String(n), expect,
                             { timeout: 10000 }).catch(() => {});
  const after = await body();
  found.filtered = { query, rows: after.rows, expected: expect, drawn: after.drawn };
  check(after.rows === String(expect) && expect < groups.size,
        `filter "${query}": ${after.rows} rows, expected ${expect} of ${groups.size}`);
  check(Number(after.drawn) < Number(before.drawn), "the filter drew no fewer cells");

  // Hovering the first drawn cell shows its details.
  await page.locator("#hm").scrollIntoViewIfNeeded();
  const box = await page.locator("#hm").boundingBox();
  await page.mouse.move(box.x + 300 + 5, box.y + 56 + 8);
  const tip = await page.locator("#tip").evaluate((e) => ({
    shown: getComputedStyle(e).display !== "none", text: e.textContent }));
  found.tip = tip;
  check(tip.shown && tip.text.toLowerCase().includes(query.toLowerCase()),
        "hovering a cell shows no details of a filtered group: " + JSON.stringify(tip));

  // Cells large enough to read and hover: at least 10 px a column.
  const colPx = await page.evaluate(() => {
    const cv = document.getElementById("hm");
    return (cv.getBoundingClientRect().width - 300) / Number(document.body.dataset.cols);
  });
  found.column_px = colPx;
  check(colPx >= 10, `heatmap columns of ${colPx} px`);

  // The totals shown are the JSON plan's.
  const cards = await page.$$eval("#totals .card", (cs) => cs.map((c) => [
    c.querySelector("span").textContent, c.querySelector("b").textContent]));
  const shown = Object.fromEntries(cards);
  found.totals = shown;
  for (const k of ["jobs", "pending", "done", "running", "skipped", "failed"])
    check(shown[k] === String(plan.totals[k]), `total ${k}: shown ${shown[k]}, JSON ${plan.totals[k]}`);
  check(shown["AWS calls"] === String(plan.estimates.aws_calls.total),
        `AWS calls: shown ${shown["AWS calls"]}, JSON ${plan.estimates.aws_calls.total}`);

  // The projected timeline: one bar per lane at the JSON makespan, the last
  // lane to finish marked as a long pole.
  const bars = await page.$$eval("#timeline .tl", (ts) => ts.map((t) => ({
    ms: Number(t.dataset.ms), pole: t.classList.contains("pole"),
    width: t.querySelector(".br").getBoundingClientRect().width })));
  found.timeline = bars;
  check(bars.length === plan.lanes.length, `${bars.length} timeline bars for ${plan.lanes.length} lanes`);
  plan.lanes.forEach((l, i) => check(bars[i] && Math.abs(bars[i].ms - l.est_backfill_seconds * 1000) < 1,
                                     `lane ${i}: bar at ${bars[i] && bars[i].ms} ms, JSON ${l.est_backfill_seconds} s`));
  const longest = Math.max(...plan.lanes.map((l) => l.est_backfill_seconds));
  plan.lanes.forEach((l, i) => {
    if (l.est_backfill_seconds === longest)
      check(bars[i] && bars[i].pole, `lane ${i} finishes last but is not marked`);
  });

  // The saving of skip_empty and coalesce: per lane, the tasks shown and
  // their backfill time equal the JSON plan's (per window, with skip_empty,
  // as planned with coalesce).
  const savings = await page.$$eval("#savings tr.saving", (rs) => rs.map((r) => ({
    data: { ...r.dataset },
    cells: [...r.querySelectorAll("td")].map((td) => td.textContent) })));
  found.savings = savings;
  check(savings.length === plan.lanes.length, `${savings.length} savings rows for ${plan.lanes.length} lanes`);
  const kinds = [["per_window", "PerWindow"], ["skip_empty", "SkipEmpty"], ["skip_empty_coalesce", "Planned"]];
  plan.lanes.forEach((l, i) => {
    const s = savings[i];
    if (!s) return;
    kinds.forEach(([json, attr], k) => {
      check(s.data["tasks" + attr] === String(l.tasks[json]) && s.cells[1 + 2 * k] === String(l.tasks[json]),
            `lane ${i} ${json}: shown ${s.cells[1 + 2 * k]} tasks (data ${s.data["tasks" + attr]}), JSON ${l.tasks[json]}`);
      check(Math.abs(Number(s.data["ms" + attr]) - l.backfill_seconds[json] * 1000) < 1,
            `lane ${i} ${json}: shown ${s.data["ms" + attr]} ms backfill, JSON ${l.backfill_seconds[json]} s`);
    });
  });

  // The tables fit the window whole (no scrolling inside them either).
  const tables = await page.$$eval("table", (ts) => ts.map((t) => [t.id, Math.ceil(t.getBoundingClientRect().right)]));
  found.tables = tables;
  for (const [id, right] of tables)
    check(right <= 1280, `table ${id} reaches ${right} px in a 1280-px window`);

  // Nothing wider than the window: the page never scrolls sideways.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  found.page_width = width;
  check(width <= 1280, `the page is ${width} px wide in a 1280-px window`);

  await page.fill("#filter", "");
  await page.screenshot({ path: shot, fullPage: true });
  found.screenshot = shot;
  found.console_errors = consoleErrors;
  found.requests = requests;
  check(consoleErrors.length === 0, "console errors: " + consoleErrors.join(" | "));
  check(requests.length === 0, "network requests: " + requests.join(" "));
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
found.failures = failures;
console.log(JSON.stringify(found, null, 1));
process.exit(failures.length ? 1 : 0);
