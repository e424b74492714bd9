// The browser side of the suite: one Chromium for the whole run, a fresh
// context per journey, and `Journey.step()` which checks and photographs
// every page a journey reaches.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { repoRoot } from './server.js';
import { TEXTS } from './texts.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const VIEWPORTS = {
  phone: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1366, height: 768 }, isMobile: false, hasTouch: false },
  kiosk: { viewport: { width: 1080, height: 1920 }, isMobile: false, hasTouch: true },
};

/** The run's configurations: viewport × JavaScript × language. */
export function config(viewport, js, lang) {
  return { viewport, js, lang, name: `${viewport}-${js ? 'js' : 'nojs'}-${lang}` };
}

export const RUN_ID = process.env.E2E_RUN_ID || new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
export const ARTIFACTS = path.resolve(process.env.E2E_ARTIFACTS || path.join(repoRoot, 'e2e', 'artifacts'), RUN_ID);
export const DOCS_SCREENS = path.join(repoRoot, 'docs', 'screens');
/** The configuration whose screenshots are copied into docs/screens/. */
export const DOCS_CONFIG = 'desktop-js-ru';
/** docs/screens/ is rewritten only on request, so a test run leaves the checkout clean. */
export const UPDATE_DOCS = process.env.E2E_UPDATE_SCREENS === '1';

export async function launchBrowser() {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--disable-dev-shm-usage',
    '--font-render-hinting=none',
  ];
  // Playwright gives every launch a fresh, temporary user-data-dir of its own.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args, timeout: 60_000 });
}

/** Collected over the run: axe findings below the failing impacts. */
export const axeFindings = [];
/** How many pages axe checked, and how many were the same markup as one checked before. */
export const auditStats = { run: 0, skipped: 0 };
const auditedMarkup = new Set();

/** The markup of a page less what differs from one person or moment to the next. */
function normalizeMarkup(html) {
  return html
    .replace(/\svalue="[^"]*"/g, ' value=""')
    .replace(/[\w.+-]+@[\w.-]+/g, 'x@y')
    .replace(/(data-[\w-]+=")[^"]*"/g, '$1"')
    .replace(/\d+/g, '0');
}

export class Journey {
  /**
   * @param {object} o
   * @param {import('playwright-core').Browser} o.browser
   * @param {ReturnType<typeof config>} o.cfg
   * @param {string} o.slug  short name of the journey, used for folders
   * @param {number} o.seq   unique number of the journey in the run
   * @param {import('./outbox.js').Outbox} o.outbox
   * @param {string} o.baseUrl
   * @param {object} [o.server]  what `startServer()` returned (binary, dataDir, env): for the CLI
   */
  constructor({ browser, cfg, slug, seq, outbox, baseUrl, server }) {
    Object.assign(this, { browser, cfg, slug, seq, outbox, baseUrl, server });
    this.t = TEXTS[cfg.lang];
    this.dir = path.join(ARTIFACTS, cfg.name, slug);
    this.n = 0;
    this.people = 0;
    this.audited = [];
    /** Other people's browsers in the same journey (see `person()`). */
    this.others = [];
    /** Failures of `soft()` checks, reported when the journey ends. */
    this.softFailures = [];
  }

  /** A fresh browser context in this journey's configuration, watched for script errors. */
  async newContext() {
    const vp = VIEWPORTS[this.cfg.viewport];
    const context = await this.browser.newContext({
      ...vp,
      deviceScaleFactor: 1,
      javaScriptEnabled: this.cfg.js,
      locale: this.cfg.lang === 'en' ? 'en-GB' : 'ru-RU',
      timezoneId: 'Europe/Moscow',
      baseURL: this.baseUrl,
      reducedMotion: 'reduce',
    });
    context.setDefaultTimeout(15_000);
    context.setDefaultNavigationTimeout(20_000);
    const page = await context.newPage();
    this.watch(page);
    return { context, page };
  }

  /** Collects a page's script errors and failed sub-resources into `this.errors`. */
  watch(page) {
    page.on('pageerror', (e) => this.errors.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // A page answered 4xx on purpose (a form with errors) logs "Failed to load resource".
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) this.errors.push(`console error: ${m.text()}`);
    });
    // Every style sheet, script and image must load (browsers ask for /favicon.ico on their own).
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (r.status() >= 400 && !r.request().isNavigationRequest() && u.pathname !== '/favicon.ico') {
        this.errors.push(`${r.status()} for ${u.pathname}`);
      }
    });
    page.on('requestfailed', (r) => {
      if (!r.isNavigationRequest() && new URL(r.url()).pathname !== '/favicon.ico' && r.failure()?.errorText !== 'net::ERR_ABORTED') {
        this.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
      }
    });
  }

  async open() {
    fs.mkdirSync(this.dir, { recursive: true });
    this.errors = [];
    this.own = await this.newContext();
    ({ context: this.context, page: this.page } = this.own);
    return this;
  }

  /**
   * A second person in the journey (a citizen beside the operator), with a
   * browser of their own in the same configuration. Use it with `as()`.
   */
  async person() {
    const other = await this.newContext();
    this.others.push(other);
    return other;
  }

  /**
   * Runs `fn` in `who`'s browser: `this.page`, `this.context` and
   * `step()` are theirs meanwhile. After a failure the journey stays in
   * their browser, so that FAILED.png shows what went wrong.
   */
  async as(who, fn) {
    const mine = { context: this.context, page: this.page };
    this.context = who.context;
    this.page = who.page;
    const result = await fn();
    this.context = mine.context;
    this.page = mine.page;
    return result;
  }

  /**
   * A check that must not stop the rest of the journey: a failure is kept
   * and reported when the journey ends (see `finish()`), with a screenshot
   * of what the page showed, so one run shows every failing check.
   */
  async soft(what, fn) {
    try {
      await fn();
    } catch (e) {
      this.softFailures.push(`${what}: ${e.message.split('\n').slice(0, 12).join('\n')}`);
      await this.page?.screenshot({ path: path.join(this.dir, `SOFT-${this.softFailures.length}.png`), fullPage: true }).catch(() => {});
    }
  }

  /** Records a failure the journey could get past (see `soft()`). */
  softFail(message) {
    this.softFailures.push(message);
  }

  /** Fails the journey if a `soft()` check failed on the way. */
  finish() {
    assert.deepEqual(this.softFailures, [], `${this.cfg.name}/${this.slug}: checks that failed on the way (screenshots SOFT-N.png in ${this.dir})`);
  }

  async close() {
    await this.auditContext?.close().catch(() => {});
    for (const o of this.others) await o.context.close().catch(() => {});
    await this.own?.context.close().catch(() => {});
  }

  // ------------------------------------------------------------------ people

  /** A fresh Russian mobile number: { typed, e164 }, unique in the run. */
  phone() {
    this.people += 1;
    const digits = `9${String(this.seq).padStart(3, '0')}${String(this.people).padStart(6, '0')}`;
    const typed = `+7 (${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6, 8)}-${digits.slice(8, 10)}`;
    return { typed, e164: `+7${digits}`, digits };
  }

  /** A fresh e-mail address, unique in the run. */
  email() {
    this.people += 1;
    return `${this.t.lang === 'ru' ? 'maria' : 'anna'}.${this.seq}.${this.people}@example.ru`;
  }

  // ------------------------------------------------------------------ steps

  async goto(pathname) {
    const res = await this.page.goto(pathname);
    return res;
  }

  /**
   * Checks the page the journey has reached and takes its screenshot:
   * no serious or critical axe violations, no horizontal scrolling, no
   * script errors; `doc` names a copy for docs/screens/.
   */
  async step(name, { doc } = {}) {
    const page = this.page;
    await page.waitForLoadState('load');
    const label = `${this.cfg.name}/${this.slug} step ${name} (${page.url()})`;
    // No horizontal scrolling (WCAG 1.4.10 Reflow), on every viewport.
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    assert.ok(scrollWidth <= clientWidth, `${label}: horizontal scrolling, scrollWidth ${scrollWidth} > clientWidth ${clientWidth}`);
    // Touch targets on touch screens: at least 24×24 CSS px (WCAG 2.5.8).
    if (VIEWPORTS[this.cfg.viewport].hasTouch) {
      const small = await page.evaluate(() => {
        const out = [];
        for (const el of document.querySelectorAll('button, input:not([type=hidden]), select, textarea, a.button, nav a')) {
          const r = el.getBoundingClientRect();
          if (r.width === 0 && r.height === 0) continue;
          if (r.width < 24 || r.height < 24) out.push(`${el.outerHTML.slice(0, 80)} ${Math.round(r.width)}×${Math.round(r.height)}`);
        }
        return out;
      });
      assert.deepEqual(small, [], `${label}: touch targets smaller than 24×24 px`);
    }
    const t0 = Date.now();
    await this.audit(label);
    const t1 = Date.now();
    this.n += 1;
    const file = path.join(this.dir, `${String(this.n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: this.cfg.viewport !== 'kiosk' });
    if (process.env.E2E_PROFILE) console.log(`# ${label}: axe ${t1 - t0} ms, screenshot ${Date.now() - t1} ms`);
    if (doc && UPDATE_DOCS && this.cfg.name === DOCS_CONFIG) {
      fs.mkdirSync(DOCS_SCREENS, { recursive: true });
      await page.screenshot({ path: path.join(DOCS_SCREENS, `${doc}.png`), fullPage: false });
    }
    assert.deepEqual(this.errors, [], `${label}: errors in the browser console`);
  }

  /**
   * axe-core on the page as it is now; with JavaScript off, on a copy.
   * A page whose markup, less what differs from person to person (tokens,
   * numbers, typed values, addresses), was already audited in this
   * configuration is not audited again: the same markup, the same findings.
   */
  async audit(label) {
    let target = this.page;
    const html = await this.page.content();
    const key = `${this.cfg.name}\n${new URL(this.page.url()).pathname}\n${normalizeMarkup(html)}`;
    if (auditedMarkup.has(key)) {
      auditStats.skipped += 1;
      return;
    }
    auditStats.run += 1;
    if (!this.cfg.js) {
      // axe needs scripts; the page has none. Show the very same HTML,
      // without app.js, in a JavaScript-enabled twin of the same size.
      const url = this.page.url();
      if (!this.auditPage) {
        this.auditContext = await this.browser.newContext({
          ...VIEWPORTS[this.cfg.viewport],
          deviceScaleFactor: 1,
          javaScriptEnabled: true,
          locale: this.cfg.lang === 'en' ? 'en-GB' : 'ru-RU',
        });
        this.auditPage = await this.auditContext.newPage();
        await this.auditPage.route('**/*', (route) => {
          const req = route.request();
          if (req.isNavigationRequest()) {
            return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: this.auditHtml });
          }
          if (new URL(req.url()).pathname.endsWith('.js')) return route.abort();
          return route.continue();
        });
      }
      // A copy that refreshes itself (<meta http-equiv=refresh>) goes on
      // reloading after its audit: stop it before this one.
      if (this.auditRefreshes) await this.auditPage.goto('about:blank').catch(() => {});
      this.auditRefreshes = /http-equiv=["']?refresh/i.test(html);
      this.auditHtml = html;
      await this.auditPage.goto(url);
      target = this.auditPage;
    }
    await target.evaluate(AXE_SOURCE);
    const result = await target.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      AXE_TAGS,
    );
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of result.violations) {
      if (!bad.includes(v)) axeFindings.push({ where: label, id: v.id, impact: v.impact, nodes: v.nodes.length });
    }
    this.audited.push(label);
    if (bad.length === 0) auditedMarkup.add(key);
    assert.deepEqual(
      bad.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(0, 2).join(' ')}`),
      })),
      [],
      `${label}: serious or critical accessibility violations`,
    );
  }

  // ------------------------------------------------------------------ reading

  async h1() {
    return (await this.page.locator('h1').first().innerText()).trim();
  }

  async mainText() {
    return this.page.locator('main').innerText();
  }

  async expectH1(text) {
    assert.equal(await this.h1(), text, `${this.cfg.name}/${this.slug}: heading at ${this.page.url()}`);
  }

  async expectText(textOrRe, where = 'main') {
    const text = await this.page.locator(where).innerText();
    if (textOrRe instanceof RegExp) assert.match(text, textOrRe, `${this.page.url()}`);
    else assert.ok(text.includes(textOrRe), `${this.page.url()}: expected «${textOrRe}» in:\n${text}`);
    return text;
  }

  async expectPath(pathname) {
    const u = new URL(this.page.url());
    assert.equal(u.pathname + u.search, pathname, 'where the browser is');
  }

  async expectLang() {
    assert.equal(await this.page.getAttribute('html', 'lang'), this.cfg.lang, 'html lang');
  }
}
