// Lighthouse, axe-core and screenshots of the blog's pages, on a running local stack.
//
//   node audit/audit.mjs --base http://127.0.0.1:8000 --out build/audit \
//        --pages '{"home": "/", "post": "/posts/x", "missing": {"path": "/nothing", "status": 404}}'
//
// `make audit` starts the local stack and runs this (blogctl/audit.py). It drives the system's
// Chromium (CHROME_PATH, Debian's /usr/bin/chromium by default) and never downloads a browser.
// It writes, under --out:
//   lighthouse/<page>-<mobile|desktop>.html and .json   Lighthouse's reports
//   axe/<page>-<width>-<scheme>.json                       axe-core's violations (an empty list when clean)
//   screenshots/<page>-<width>-<scheme>.png                the whole page at 1280 and 390 px, light and dark
//   summary.json                                           every score and violation count
// and exits 1 when a Lighthouse category scores below 100 (but for audits named with --except,
// which that page must fail) or axe finds any violation.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {parseArgs} from 'node:util';

import lighthouse, {desktopConfig} from 'lighthouse';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = require.resolve('axe-core/axe.min.js');

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const REQUIRED_SCORE = 100;
const FORM_FACTORS = {mobile: undefined, desktop: desktopConfig}; // undefined: Lighthouse's default (mobile)
const WIDTHS = [1280, 390];
const SCHEMES = ['light', 'dark'];
const VIEWPORT_HEIGHT = 900;
const NAVIGATION_TIMEOUT_MS = 30_000;
// Lighthouse sometimes loses a trace on a busy machine ("NO_NAVSTART: please run Lighthouse
// again"): a run that could not measure is tried again, at most this many times in all.
const LIGHTHOUSE_ATTEMPTS = 3;
// The flags that work on a shared CI machine, plus a fresh profile per run (see launch()).
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

function options() {
  const {values} = parseArgs({options: {
    base: {type: 'string'}, out: {type: 'string', default: 'build/audit'}, pages: {type: 'string'},
    // Documented exceptions, "<page>:<audit id>": audits that page must fail (a 404 page answers 404).
    except: {type: 'string', multiple: true, default: []},
  }});
  if (!values.base || !values.pages) {
    throw new Error('usage: audit.mjs --base URL --pages \'{"name": "/path"}\' [--out DIR] [--except page:audit-id]');
  }
  return {base: values.base.replace(/\/$/, ''), out: values.out, pages: JSON.parse(values.pages),
          exceptions: new Set(values.except)};
}

async function launch() {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'blog-audit-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
  });
  return {browser, profile};
}

/** Lighthouse on one page, tried again when it could not measure (never when it scored). */
async function runLighthouse(url, status, formFactor, outDir, name) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lighthouseOnce(url, status, formFactor, outDir, name);
    } catch (err) {
      if (!err.lighthouseRuntimeError || attempt >= LIGHTHOUSE_ATTEMPTS) throw err;
      console.log(`${name} ${formFactor}: ${err.message}; trying again`);
    }
  }
}

/** One Lighthouse run in a browser of its own: the category scores (0-100) and the audits that cost points. */
async function lighthouseOnce(url, status, formFactor, outDir, name) {
  const {browser, profile} = await launch();
  const page = await browser.newPage();
  try {
    // An error page is audited too: Lighthouse refuses a 404 unless told that it is expected.
    const flags = {output: ['html', 'json'], logLevel: 'error', onlyCategories: CATEGORIES, ignoreStatusCode: status !== 200};
    const result = await lighthouse(url, flags, FORM_FACTORS[formFactor], page);
    const [html, json] = result.report;
    await fs.writeFile(path.join(outDir, 'lighthouse', `${name}-${formFactor}.html`), html);
    await fs.writeFile(path.join(outDir, 'lighthouse', `${name}-${formFactor}.json`), json);
    const lhr = result.lhr;
    if (lhr.runtimeError) {
      const err = new Error(`Lighthouse could not audit ${url}: ${lhr.runtimeError.code}`);
      err.lighthouseRuntimeError = true;
      throw err;
    }
    const scores = {};
    const lost = [];
    for (const id of CATEGORIES) {
      const category = lhr.categories[id];
      scores[id] = category.score === null ? null : Math.round(category.score * 100);
      for (const ref of category.auditRefs) {
        const audit = lhr.audits[ref.id];
        if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
          lost.push({category: id, audit: ref.id, title: audit.title, score: audit.score,
                     detail: audit.displayValue || audit.explanation || ''});
        }
      }
    }
    return {scores, lost};
  } finally {
    await browser.close();
    await fs.rm(profile, {recursive: true, force: true});
  }
}

/** axe-core on the page as a reader with this width and color scheme sees it; a screenshot of it. */
async function runAxe(browser, url, width, scheme, outDir, name) {
  const page = await browser.newPage();
  try {
    await page.setViewport({width, height: VIEWPORT_HEIGHT});
    await page.emulateMediaFeatures([{name: 'prefers-color-scheme', value: scheme}]);
    const response = await page.goto(url, {waitUntil: 'load', timeout: NAVIGATION_TIMEOUT_MS});
    const answered = response ? response.status() : 0;
    await page.screenshot({path: path.join(outDir, 'screenshots', `${name}-${width}-${scheme}.png`), fullPage: true});
    // The pages allow no script at all: axe is added through the DevTools protocol, which
    // the page's Content-Security-Policy does not govern.
    const source = await fs.readFile(AXE_SOURCE, 'utf8');
    const session = await page.createCDPSession();
    await session.send('Runtime.evaluate', {expression: source});
    const {result} = await session.send('Runtime.evaluate', {
      expression: 'axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))',
      awaitPromise: true, returnByValue: true,
    });
    const violations = JSON.parse(result.value).map(v => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 10),
    }));
    await fs.writeFile(path.join(outDir, 'axe', `${name}-${width}-${scheme}.json`),
                       JSON.stringify({url, status: answered, violations}, null, 2));
    return {answered, violations};
  } finally {
    await page.close();
  }
}

async function main() {
  const {base, out, pages, exceptions} = options();
  for (const folder of ['lighthouse', 'axe', 'screenshots']) {
    await fs.mkdir(path.join(out, folder), {recursive: true});
  }
  const {browser, profile} = await launch();
  const summary = {base, pages: {}, failures: []};
  try {
    for (const [name, wanted] of Object.entries(pages)) {
      const {path: pagePath, status = 200} = typeof wanted === 'string' ? {path: wanted} : wanted;
      const url = base + pagePath;
      const entry = summary.pages[name] = {url, status, lighthouse: {}, axe: {}};
      for (const formFactor of Object.keys(FORM_FACTORS)) {
        const {scores, lost} = await runLighthouse(url, status, formFactor, out, name);
        entry.lighthouse[formFactor] = {scores, lost};
        for (const [category, score] of Object.entries(scores)) {
          // Below 100 passes only when every audit that cost points is one this page must fail.
          const unexpected = lost.filter(l => l.category === category && !exceptions.has(`${name}:${l.audit}`));
          if (score !== REQUIRED_SCORE && (unexpected.length || !lost.some(l => l.category === category))) {
            const why = unexpected.map(l => `${l.audit} (${l.detail || l.score})`);
            summary.failures.push(`${name} ${formFactor}: ${category} ${score} < ${REQUIRED_SCORE}: ${why.join(', ')}`);
          }
        }
      }
      for (const width of WIDTHS) {
        for (const scheme of SCHEMES) {
          const {answered, violations} = await runAxe(browser, url, width, scheme, out, name);
          entry.axe[`${width}-${scheme}`] = violations.length;
          if (answered !== status) {
            summary.failures.push(`${name}: ${url} answered ${answered}, not ${status}`);
          }
          for (const v of violations) {
            summary.failures.push(`${name} ${width}px ${scheme}: axe ${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(', ')}`);
          }
        }
      }
      const scores = Object.entries(entry.lighthouse)
        .map(([formFactor, r]) => `${formFactor} ${CATEGORIES.map(c => r.scores[c]).join('/')}`).join(', ');
      console.log(`${name.padEnd(10)} ${scores}; axe violations ${Object.values(entry.axe).reduce((a, b) => a + b, 0)}`);
    }
  } finally {
    await browser.close();
    await fs.rm(profile, {recursive: true, force: true});
  }
  summary.exceptions = [...exceptions];
  await fs.writeFile(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2));
  if (summary.failures.length) {
    console.error(`\n${summary.failures.length} problem(s):\n` + summary.failures.map(f => `  ${f}`).join('\n'));
    process.exitCode = 1;
  } else {
    const excepted = exceptions.size ? ` (but for the audits excepted: ${[...exceptions].join(', ')})` : '';
    console.log(`\nall pages: Lighthouse ${CATEGORIES.join(', ')} ${REQUIRED_SCORE}${excepted}; no axe violations`);
  }
  console.log(`reports and screenshots in ${out}/`);
}

main().catch(err => {
  console.error(err.stack || String(err));
  process.exitCode = 2;
});
