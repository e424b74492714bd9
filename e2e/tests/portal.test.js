// The portal in a real browser: every journey in every configuration.
//
//   Russian:  phone 360×740, desktop 1366×768, kiosk 1080×1920 — JS on and off
//   English:  desktop — JS on and off (Accept-Language: en)
//   Keyboard: the phone, e-mail and personal data journeys with Tab/Space/Enter/typing only, desktop, JS on and off, both languages
//   The confirmed account: the code by registered letter everywhere; the
//   operator console (operators work at desktops) on desktop, JS on and off,
//   both languages; access restored on desktop-js-ru and desktop-nojs-en; the
//   console by keyboard on desktop, JS on and off, in Russian
//   «Не удаётся войти?»: by phone everywhere (every viewport, JS on and off,
//   in Russian; desktop in English); by e-mail and for a standard account
//   on desktop-js-ru and desktop-nojs-en. «Безопасность» (sessions,
//   history) on desktop-js-ru and desktop-nojs-en
//   «Вход с подтверждением» by an app on desktop (JS on/off, both
//   languages), phone-js-ru and kiosk-nojs-ru, by keyboard on desktop-js-ru
//   and desktop-nojs-ru; by SMS on desktop-js-ru and phone-nojs-ru. A new
//   phone everywhere (every viewport, JS on and off, in Russian; desktop in
//   English); an e-mail added on desktop-js-ru and desktop-nojs-en
//   E-mail links opened elsewhere (registration, recovery): only the browser
//   that pressed «Подтвердить» goes on — desktop-js-ru, desktop-nojs-en,
//   phone-nojs-ru
//
// One server and one Chromium serve the whole run; journeys run a few at a
// time, each in its own browser context with its own phone number or e-mail.
import { after, before, describe, test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, Journey, RUN_ID, auditStats, axeFindings, config, launchBrowser } from '../lib/harness.js';
import * as J from '../lib/journeys.js';
import * as C from '../lib/journeys_confirmed.js';
import * as S from '../lib/journeys_security.js';
import * as A from '../lib/journeys_account.js';
import { Outbox } from '../lib/outbox.js';
import { startServer } from '../lib/server.js';

const JOURNEYS = [
  ['register by phone → code → password → success → log in → my data', 'phone', J.registerByPhone],
  ['register by e-mail → link → password → log in by e-mail', 'email', J.registerByEmail],
  ['wrong code three times → a new code is needed', 'wrong-code', J.wrongCodeThreeTimes],
  ['«change data» keeps the entries', 'change-data', J.changeData],
  ['log in by phone and by e-mail', 'login', J.logInByPhoneAndEmail],
  ['log out', 'logout', J.logOutJourney],
  ['language switcher', 'language', J.switchLanguage],
  ['home, services, terms, privacy', 'static', J.staticPages],
  ['personal data → checks → standard account → addresses → log in by SNILS', 'standard', J.standardAccount],
  ['service centers: search by text and service', 'centers', J.serviceCenters],
  ['identity by registered letter: address → ШПИ → code → confirmed', 'letter', C.identityByLetter],
];

const CONFIGS = [
  ...['desktop', 'phone', 'kiosk'].flatMap((vp) => [config(vp, true, 'ru'), config(vp, false, 'ru')]),
  config('desktop', true, 'en'),
  config('desktop', false, 'en'),
];

const KEYBOARD_CONFIGS = [
  config('desktop', true, 'ru'),
  config('desktop', false, 'ru'),
  config('desktop', true, 'en'),
  config('desktop', false, 'en'),
];

/** The operator console: at desktops only. */
const DESKTOP_CONFIGS = KEYBOARD_CONFIGS;

const OPERATOR_JOURNEYS = [
  ['operator: enrolment link → key → login with the code → desk → log out', 'operator-enrol', C.operatorEnrolAndLogIn, DESKTOP_CONFIGS],
  ['operator: find a citizen → confirm identity in person', 'operator-confirm', C.operatorConfirmsIdentity, DESKTOP_CONFIGS],
  ['operator: register a citizen in person → temporary password → own password', 'operator-register', C.operatorRegistersCitizen, DESKTOP_CONFIGS],
  ['operator: restore access → temporary password', 'operator-restore', C.operatorRestoresAccess, [config('desktop', true, 'ru'), config('desktop', false, 'en')]],
  ['keyboard only: operator login → search → confirm identity', 'keyboard-operator', C.keyboardOperator, [config('desktop', true, 'ru'), config('desktop', false, 'ru')]],
];

/** Recovery by e-mail, for a standard account, and the security page: one configuration per language. */
const TWO_CONFIGS = [config('desktop', true, 'ru'), config('desktop', false, 'en')];

/**
 * An e-mail link confirms only by its button, and only the browser that
 * pressed it goes on: both languages, JS on and off, and a phone.
 */
const LINK_CONFIGS = [config('desktop', true, 'ru'), config('desktop', false, 'en'), config('phone', false, 'ru')];

const SECURITY_JOURNEYS = [
  ['recover access by phone: wrong code → code → new password → old one refused, other sessions ended', 'recover-phone', S.recoverByPhone, CONFIGS],
  ['recover access by e-mail: the link → new password → the link works once', 'recover-email', S.recoverByEmail, TWO_CONFIGS],
  ['recover access of a standard account: the code → a wrong passport → the SNILS → new password', 'recover-standard', S.recoverStandard, TWO_CONFIGS],
  ['security: sessions of three devices → end one, end all others → history → password change ends the others', 'security', S.securityPage, TWO_CONFIGS],
  ['register by e-mail: the link opened elsewhere changes nothing → only the browser that pressed «Подтвердить» sets the password', 'email-elsewhere', J.registerByEmailElsewhere, LINK_CONFIGS],
  ['recover access by e-mail: the link opened elsewhere changes nothing → only the browser that pressed «Подтвердить» sets the password', 'recover-email-elsewhere', S.recoverByEmailElsewhere, LINK_CONFIGS],
];

/** «Вход с подтверждением» by an app: not every viewport in both JS modes, to keep the run's time. */
const FACTOR_APP_CONFIGS = [
  config('desktop', true, 'ru'),
  config('desktop', false, 'ru'),
  config('phone', true, 'ru'),
  config('kiosk', false, 'ru'),
  config('desktop', true, 'en'),
  config('desktop', false, 'en'),
];

const ACCOUNT_JOURNEYS = [
  ['second factor: the app → QR and key → backup codes → login with a code, a backup code once → off', 'factor-app', A.secondFactorApp, FACTOR_APP_CONFIGS],
  ['second factor: SMS codes → on → login with the SMS code → a new phone asks the factor too', 'factor-sms', A.secondFactorSms, [config('desktop', true, 'ru'), config('phone', false, 'ru')]],
  ['keyboard only: second factor by the app → login with its code', 'keyboard-factor', A.keyboardSecondFactor, [config('desktop', true, 'ru'), config('desktop', false, 'ru')]],
  ['contact: a new phone → code to the new number → the old one logs in no more', 'contact-phone', A.changePhone, CONFIGS],
  ['contact: an e-mail added → the link in another browser → shown, logs in', 'contact-email', A.addEmail, TWO_CONFIGS],
  ['my data: the PDF and the JSON → delete the account → wrong password → scheduled, logged out → a login cancels it', 'my-data-deletion', A.myDataAndDeletion, [config('desktop', true, 'ru'), config('phone', false, 'en')]],
];

const CONCURRENCY = Number(process.env.E2E_CONCURRENCY || 3);

let server;
let browser;
let outbox;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ logFile: path.join(ARTIFACTS, 'server.log') });
  outbox = new Outbox(server.baseUrl);
  browser = await launchBrowser();
  console.log(`# run ${RUN_ID}: ${server.binary} at ${server.baseUrl}, Chromium ${browser.version()}, screenshots in ${ARTIFACTS}`);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  const report = path.join(ARTIFACTS, 'axe-minor-findings.json');
  fs.writeFileSync(report, JSON.stringify(axeFindings, null, 2));
  console.log(`# axe-core checked ${auditStats.run} pages; ${auditStats.skipped} more had markup already checked in the same configuration`);
  if (axeFindings.length) {
    console.log(`# axe: ${axeFindings.length} moderate/minor findings (not failing), see ${report}`);
  }
});

let seq = 0;

function journeyTest(cfg, title, slug, fn) {
  const n = ++seq;
  test(`${cfg.name} › ${title}`, { timeout: 120_000 }, async () => {
    const j = new Journey({ browser, cfg, slug, seq: n, outbox, baseUrl: server.baseUrl, server });
    await j.open();
    try {
      await fn(j);
      j.finish();
    } catch (e) {
      // Leave what the person saw when it went wrong.
      await j.page?.screenshot({ path: path.join(j.dir, 'FAILED.png'), fullPage: true }).catch(() => {});
      const html = await j.page?.content().catch(() => '');
      if (html) fs.writeFileSync(path.join(j.dir, 'FAILED.html'), html);
      e.message = `${e.message}\n    at page ${j.page?.url()} (screenshots: ${j.dir})`;
      throw e;
    } finally {
      await j.close();
    }
  });
}

describe('uslugi in the browser', { concurrency: CONCURRENCY }, () => {
  for (const [title, slug, fn] of JOURNEYS) {
    for (const cfg of CONFIGS) journeyTest(cfg, title, slug, fn);
  }
  for (const cfg of KEYBOARD_CONFIGS) {
    journeyTest(cfg, 'keyboard only: register by phone → log in → log out', 'keyboard', J.keyboardOnly);
    journeyTest(cfg, 'keyboard only: register by e-mail, resend, password', 'keyboard-email', J.keyboardOnlyEmail);
    journeyTest(cfg, 'keyboard only: personal data → checks → addresses', 'keyboard-standard', J.keyboardOnlyStandard);
  }
  for (const [title, slug, fn, configs] of OPERATOR_JOURNEYS) {
    for (const cfg of configs) journeyTest(cfg, title, slug, fn);
  }
  for (const [title, slug, fn, configs] of SECURITY_JOURNEYS) {
    for (const cfg of configs) journeyTest(cfg, title, slug, fn);
  }
  for (const [title, slug, fn, configs] of ACCOUNT_JOURNEYS) {
    for (const cfg of configs) journeyTest(cfg, title, slug, fn);
  }
});
