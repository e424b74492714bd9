// The journeys of a person through the portal. Each takes a Journey (one
// browser context in one configuration) and goes from the first page to the
// last, checking what the person sees and calling `j.step()` on every page.
import assert from 'node:assert/strict';
import { createAccount } from './api.js';
import { citizen } from './citizens.js';

// ------------------------------------------------------------------ helpers

/**
 * Runs `action` (a click, a key press, a goto) that leads to a new page and
 * waits until that page has loaded. Returns the status of the page's response.
 */
export async function navigate(j, action) {
  const page = j.page;
  let status = null;
  const onResponse = (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) status = r.status();
  };
  page.on('response', onResponse);
  try {
    const loaded = page.waitForEvent('load', { timeout: 20_000 });
    await action();
    await loaded;
  } finally {
    page.off('response', onResponse);
  }
  return status;
}

export const button = (j, name) => j.page.getByRole('button', { name, exact: true });
export const link = (j, name) => j.page.getByRole('link', { name, exact: true });

export async function clickButton(j, name) {
  return navigate(j, () => button(j, name).click());
}

export async function clickLink(j, name) {
  return navigate(j, () => link(j, name).first().click());
}

export async function expectFieldError(j, field, textOrRe) {
  const text = await j.page.locator(`#${field}-error`).innerText();
  if (textOrRe instanceof RegExp) assert.match(text, textOrRe);
  else assert.equal(text.trim(), textOrRe);
  assert.equal(await j.page.getAttribute(`#${field}`, 'aria-invalid'), 'true', `#${field} aria-invalid`);
  return text;
}

export async function expectErrorSummaryFocused(j) {
  if (!j.cfg.js) return; // app.js moves the focus; without it the page reads top-down
  const focused = await j.page.evaluate(() => document.activeElement?.id);
  assert.equal(focused, 'error-summary', 'the error summary takes the focus');
}

// ------------------------------------------------------------------ e-mail links

/**
 * Opens the link of a letter: its page names what it confirms and has one
 * button, «Подтвердить», in a form that posts the token back to the link's
 * path. Opening it (a person, a mail scanner, a link preview) changes
 * nothing. `who` is the line naming who or what (none when not given).
 */
export async function openEmailLink(j, url, { who, lead, stepName, doc } = {}) {
  const { t, page } = j;
  assert.ok(url.startsWith(`${j.baseUrl}/`), `the link leads to the portal: ${url}`);
  const status = await navigate(j, () => page.goto(url));
  assert.equal(status, 200, `the link's page answers 200: ${url}`);
  const u = new URL(url);
  await j.expectPath(u.pathname + u.search); // no redirect: the GET confirms nothing
  await j.expectLang();
  await j.expectH1(t.linkConfirmTitle);
  if (who) assert.equal((await page.locator('main .who').innerText()).trim(), who, 'who or what the link confirms');
  else assert.equal(await page.locator('main .who').count(), 0, 'no «who» line');
  if (lead) await j.expectText(lead);
  await j.expectText(t.linkConfirmNotYou);
  const form = page.locator('main form').filter({ has: button(j, t.linkConfirmButton) });
  assert.equal(await form.count(), 1, `one form with «${t.linkConfirmButton}»`);
  assert.equal((await form.getAttribute('method'))?.toLowerCase(), 'post', 'the button posts');
  assert.equal(await form.getAttribute('action'), u.pathname, 'to the link\'s own path');
  assert.equal(await form.locator('input[type=hidden][name=token]').inputValue(), u.searchParams.get('token'), 'the token goes with it');
  if (stepName) await j.step(stepName, { doc });
}

/** «Подтвердить» on a link's page; the status of the page it leads to. */
export async function pressConfirm(j) {
  return clickButton(j, j.t.linkConfirmButton);
}

/**
 * The error page of a browser that may not continue (it did not enter the
 * code or press the link's button): 403 and `err_continuation`.
 */
export async function expectContinuationRefused(j, pathname, stepName) {
  const status = await navigate(j, () => j.goto(pathname));
  assert.equal(status, 403, `${pathname} in a browser that did not confirm`);
  await j.expectPath(pathname);
  await j.expectText(j.t.errContinuation);
  assert.equal(await j.page.locator('main #password').count(), 0, 'no password form');
  if (stepName) await j.step(stepName);
}

// ------------------------------------------------------------------ registration pieces

/** The registration form, filled in and sent; lands on the confirmation page. */
async function fillRegistration(j, { surname, givenName, phone, email }, stepName, doc) {
  const { t, page } = j;
  if (email) {
    await j.goto('/register');
    await clickLink(j, t.noPhone);
    await j.expectPath('/register?via=email');
    assert.equal(await page.locator('#phone').count(), 0, 'no phone field on the e-mail form');
  } else {
    await j.goto('/register');
  }
  await j.expectLang();
  await j.expectH1(t.registerTitle);
  if (stepName) await j.step(stepName, { doc });
  await page.fill('#surname', surname);
  await page.fill('#given_name', givenName);
  if (email) await page.fill('#email', email);
  else await page.fill('#phone', phone.typed);
  await page.check('#accept_terms');
  const status = await clickButton(j, t.registerButton);
  assert.equal(status, 200, 'the confirmation page answers 200 after the 303');
  await j.expectPath('/register/confirm');
}

async function expectCodePage(j, { surname, givenName, phone }) {
  const { t, page } = j;
  await j.expectText(t.confirmPhoneTitle);
  await j.expectText(`${surname} ${givenName}, ${phone.typed}`, '.who');
  const countdown = (await page.locator('.countdown').innerText()).trim();
  assert.match(countdown, j.cfg.js ? t.codeValidSeconds : t.codeValidUntil, 'the code’s lifetime is shown');
  if (j.cfg.js) {
    // «ещё 1 секунду / 2 секунды / 5 секунд»: the word agrees with the number.
    const [, n, word] = countdown.match(/(\d+) (\S+)$/);
    assert.equal(word, t.secondsWord(Number(n)), `the plural form in «${countdown}»`);
  }
  const resend = button(j, t.resendCode);
  // With JavaScript the button sleeps for 60 s; without, the server refuses early presses.
  assert.equal(await resend.isDisabled(), j.cfg.js, 'resend button disabled only with JavaScript');
}

async function enterCode(j, code) {
  await j.page.fill('#code', code);
  return clickButton(j, j.t.continueButton);
}

/** The password page: a too-common password first, then a good one. */
async function setPassword(j, { tryCommon = true, doc } = {}) {
  const { t, page } = j;
  await j.expectPath('/register/password');
  await j.expectText(t.passwordHeading);
  await j.step('password', { doc });
  if (tryCommon) {
    await page.fill('#password', 'password1');
    await page.fill('#password_confirmation', 'password1');
    const status = await clickButton(j, t.save);
    assert.equal(status, 422);
    await expectFieldError(j, 'password', new RegExp(t.pwCommon));
    await j.expectText(t.strength, '#strength');
    await expectErrorSummaryFocused(j);
    await j.step('password-too-common');
  }
  await page.fill('#password', t.password);
  if (j.cfg.js) {
    // The meter follows the typing.
    await page.locator('#strength').filter({ hasText: t.strength }).waitFor();
  }
  await page.fill('#password_confirmation', t.password);
  await clickButton(j, t.save);
}

async function expectDone(j, doc) {
  const { t } = j;
  await j.expectPath('/register/done');
  await j.expectH1(t.doneTitle);
  assert.equal(await link(j, t.loginAndFill).getAttribute('href'), '/login?next=%2Fme');
  assert.equal(await link(j, t.goServices).getAttribute('href'), '/services');
  await j.step('done', { doc });
}

export async function logIn(j, login, { remember = false, stepName = 'login', doc, password, expectStatus = 200 } = {}) {
  const { t, page } = j;
  await j.expectH1(t.loginTitle);
  await j.step(stepName, { doc });
  await page.fill('#login', login);
  await page.fill('#password', password || t.password);
  if (remember) await page.check('#remember_me');
  const status = await clickButton(j, t.loginButton);
  assert.equal(status, expectStatus, 'the status of the page after «log in»');
}

async function expectMe(j, { surname, givenName, phone, email }, doc, stepName = 'me') {
  const { t } = j;
  await j.expectPath('/me');
  await j.expectH1(t.meTitle);
  const text = await j.mainText();
  assert.ok(text.includes(`${surname} ${givenName}`), `the name on «${t.meTitle}»:\n${text}`);
  assert.ok(text.includes(t.levelSimplified), 'the level is «simplified»');
  if (phone) assert.ok(text.includes(phone.typed), `the phone on «${t.meTitle}»`);
  if (email) assert.ok(text.includes(email), `the e-mail on «${t.meTitle}»`);
  assert.ok(text.includes(t.notGiven), 'the missing contact is «not given»');
  await j.expectText(t.logout, 'header');
  await j.step(stepName, { doc });
}

export async function logOut(j) {
  const { t } = j;
  await clickButton(j, t.logout);
  await j.expectPath('/login?logged_out=1');
  await j.expectText(t.loggedOut);
  const session = (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-session');
  assert.ok(!session || session.value === '', 'the session cookie is gone');
}

function person(j) {
  return { surname: j.t.people.surname, givenName: j.t.people.givenName };
}

// ------------------------------------------------------------------ journeys

/** Register by phone → code → password → success → log in → «My data». */
export async function registerByPhone(j) {
  const { t, page } = j;
  const who = { ...person(j), phone: j.phone() };
  // An empty form first: every field says what is wrong.
  await j.goto('/register');
  await j.expectLang();
  const status = await clickButton(j, t.registerButton);
  assert.equal(status, 422);
  for (const f of ['surname', 'given_name', 'phone', 'accept_terms']) {
    assert.equal(await page.locator(`#${f}-error`).count(), 1, `an error for ${f}`);
  }
  await expectErrorSummaryFocused(j);
  await j.step('register-errors');

  await fillRegistration(j, who, 'register', '01-register');
  await expectCodePage(j, who);
  await j.step('confirm-code', { doc: '02-confirm-code' });
  const code = await j.outbox.code(who.phone.e164);
  await enterCode(j, code);
  await setPassword(j, { doc: '03-password' });
  await expectDone(j, '04-done');

  await clickLink(j, t.loginAndFill);
  await j.expectPath('/login?next=%2Fme');
  await logIn(j, who.phone.typed, { doc: '05-login' });
  await expectMe(j, who, '06-me');
}

/** Register by e-mail → the link in the letter → password → log in by e-mail. */
export async function registerByEmail(j) {
  const { t, page } = j;
  const who = { ...person(j), email: j.email() };
  await fillRegistration(j, who, 'register-email', '07-register-email');
  await j.expectText(t.confirmEmailTitle);
  await j.expectText(t.emailSent);
  await j.expectText(`${who.surname} ${who.givenName}, ${who.email}`, '.who');
  assert.equal(await page.locator('#code').count(), 0, 'no code field for e-mail');
  assert.equal(await button(j, t.resendEmail).isDisabled(), j.cfg.js, 'resend disabled only with JavaScript');
  await j.step('check-email', { doc: '08-check-email' });

  const { url, mail } = await j.outbox.link(who.email);
  assert.ok(url.startsWith(j.baseUrl), `the link leads to the portal: ${url}`);
  assert.ok(mail.subject, 'the letter has a subject');
  // The link's page only asks; «Подтвердить» confirms, and this browser goes on.
  await openEmailLink(j, url, { who: `${who.surname} ${who.givenName}, ${who.email}`, lead: t.linkConfirmRegistration, stepName: 'email-link' });
  assert.equal(await pressConfirm(j), 200, 'the password page after the 303');
  await setPassword(j, { tryCommon: false, doc: '09-password-email' });
  await expectDone(j);

  await clickLink(j, t.goServices);
  await j.expectPath('/services');
  await j.expectH1(t.servicesTitle);
  await j.step('services');
  await navigate(j, () => page.locator('header nav').getByRole('link', { name: t.navLogin, exact: true }).click());
  await j.expectPath('/login');
  await logIn(j, who.email);
  await expectMe(j, who, '10-me-email');
}

/**
 * Register by e-mail, the letter read elsewhere. A browser that only opens
 * the link (someone else's, a mail scanner) changes nothing: this browser
 * still waits for the confirmation and the link still shows its button. The
 * person's other browser presses «Подтвердить» and goes on to the password;
 * this browser, which started the registration but pressed nothing, gets
 * 403 «Продолжить можно только в том браузере…». Once the password is set
 * there, the stranger's page, pressed now, finds the link used (410); the
 * password logs in.
 */
export async function registerByEmailElsewhere(j) {
  const { t } = j;
  const who = { ...person(j), email: j.email() };
  const whoLine = `${who.surname} ${who.givenName}, ${who.email}`;
  await fillRegistration(j, who, 'register-email');
  await j.expectText(t.emailSent);
  await j.step('check-email');
  const { url } = await j.outbox.link(who.email);

  // Someone else's browser opens the link and leaves it without pressing.
  const stranger = await j.person();
  await j.as(stranger, () => openEmailLink(j, url, { who: whoLine, lead: t.linkConfirmRegistration, stepName: 'link-opened-elsewhere' }));
  // Nothing has changed: here the password page still sends back to the letter …
  assert.equal(await navigate(j, () => j.goto('/register/password')), 200);
  await j.expectPath('/register/confirm');
  await j.expectText(t.emailSent);
  await j.expectText(whoLine, '.who');
  await j.step('still-unconfirmed');
  // … and the link is not spent: the address is not confirmed by anyone.
  const mailbox = await j.person();
  await j.as(mailbox, () => openEmailLink(j, url, { who: whoLine, lead: t.linkConfirmRegistration, stepName: 'link-mailbox' }));

  // The person presses «Подтвердить» in the browser of their mailbox: that browser goes on.
  await j.as(mailbox, async () => {
    assert.equal(await pressConfirm(j), 200);
    await j.expectPath('/register/password');
    await j.expectText(t.passwordHeading);
  });
  // The browser that started the registration did not confirm: it cannot set the password.
  await expectContinuationRefused(j, '/register/password', 'password-refused-here');

  await j.as(mailbox, async () => {
    await setPassword(j, { tryCommon: false });
    await expectDone(j);
  });
  // The page left open in the stranger's browser: its button finds the link used.
  await j.as(stranger, async () => {
    assert.equal(await pressConfirm(j), 410, 'a used link, pressed');
    await j.expectH1(t.linkInvalidTitle);
    await j.step('link-pressed-after-use');
  });
  // The account is made, with the password set where the button was pressed.
  await j.goto('/login');
  await logIn(j, who.email, { stepName: 'login' });
  await expectMe(j, who);
}

/** Three wrong codes kill the code: even the right one is refused, a new one is needed. */
export async function wrongCodeThreeTimes(j) {
  const { t, page } = j;
  const who = { ...person(j), phone: j.phone() };
  await fillRegistration(j, who, 'register');
  await expectCodePage(j, who);
  await j.step('confirm-code');
  const code = await j.outbox.code(who.phone.e164);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const seen = [];
  for (let i = 1; i <= 3; i++) {
    const status = await enterCode(j, wrong);
    assert.equal(status, 422);
    await j.expectPath('/register/confirm');
    const msg = (await page.locator('#code-error').innerText()).trim();
    seen.push(msg);
    if (i < 3) {
      const m = msg.match(t.codeWrong);
      assert.ok(m, `attempt ${i}: «${msg}»`);
      assert.equal(Number(m[1]), 3 - i, `attempts left after ${i} wrong codes`);
    } else {
      assert.equal(msg, t.codeExhausted, 'the third wrong code kills the code');
    }
    await expectErrorSummaryFocused(j);
    await j.step(`wrong-code-${i}`);
  }
  // The fourth try, with the right code: refused, a new code is needed.
  const status = await enterCode(j, code);
  assert.equal(status, 422, `the right code after three wrong ones is refused (messages: ${seen.join(' | ')})`);
  await expectFieldError(j, 'code', t.codeExhausted);
  await j.step('code-exhausted', { doc: '11-code-exhausted' });

  // A new code: too early now (60 s after the last send).
  const resend = button(j, t.resendCode);
  if (j.cfg.js) {
    assert.ok(await resend.isDisabled(), 'with JavaScript the resend button waits');
    // A page left open (or a clock that is off) may still send the form: the server refuses.
    await resend.evaluate((b) => { b.disabled = false; });
  }
  const resendStatus = await navigate(j, () => resend.click());
  assert.equal(resendStatus, 429);
  await j.expectPath('/register/resend'); // the refused form's answer, as with any form error
  const refused = (await page.locator('p#resend').innerText()).trim();
  assert.match(refused, t.tooMany);
  await j.step('resend-too-early');
  // Still no way in with the old code.
  await enterCode(j, code);
  await expectFieldError(j, 'code', t.codeExhausted);
}

/** «Change data» goes back to the form with what was typed, and the change is kept. */
export async function changeData(j) {
  const { t, page } = j;
  const who = { ...person(j), phone: j.phone() };
  await fillRegistration(j, who, 'register');
  await expectCodePage(j, who);
  await j.step('confirm-code');
  await clickLink(j, t.changeData);
  await j.expectPath('/register?edit=1');
  assert.equal(await page.inputValue('#surname'), who.surname);
  assert.equal(await page.inputValue('#given_name'), who.givenName);
  assert.equal(await page.inputValue('#phone'), who.phone.typed);
  assert.ok(await page.isChecked('#accept_terms'), 'the consent stays ticked');
  await j.step('edit-prefilled');

  const changed = { ...who, givenName: t.people.newGivenName, phone: j.phone() };
  await page.fill('#given_name', changed.givenName);
  await page.fill('#phone', changed.phone.typed);
  await clickButton(j, t.registerButton);
  await j.expectPath('/register/confirm');
  await expectCodePage(j, changed);
  await j.step('confirm-after-edit');
  const code = await j.outbox.code(changed.phone.e164);
  await enterCode(j, code);
  await setPassword(j, { tryCommon: false });
  await expectDone(j);
  await clickLink(j, t.loginAndFill);
  await logIn(j, changed.phone.typed);
  await expectMe(j, changed);
}

/** Log in by phone and by e-mail; a wrong password says so. */
export async function logInByPhoneAndEmail(j) {
  const { t, page } = j;
  const byPhone = { ...person(j), phone: j.phone() };
  const byEmail = { ...person(j), email: j.email() };
  await createAccount(j.baseUrl, j.outbox, { ...byPhone, password: t.password, lang: t.lang });
  await createAccount(j.baseUrl, j.outbox, { ...byEmail, password: t.password, lang: t.lang });

  await j.goto('/login');
  await logIn(j, byPhone.phone.typed, { password: 'неверный пароль 123', stepName: 'login', expectStatus: 401 });
  await j.expectPath('/login');
  await j.expectText(t.badCredentials, '#error-summary');
  assert.equal(await page.inputValue('#login'), byPhone.phone.typed, 'the login stays typed');
  await j.step('login-wrong-password');

  // By phone, typed as E.164, remembered.
  await page.fill('#login', byPhone.phone.e164);
  await page.fill('#password', t.password);
  await page.check('#remember_me');
  await clickButton(j, t.loginButton);
  await expectMe(j, byPhone, undefined, 'me-phone');
  const session = (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-session');
  assert.ok(session && session.expires > Date.now() / 1000 + 3600, '«Remember me» keeps the session cookie');
  await logOut(j);

  // By e-mail, not remembered: a session cookie that ends with the browser.
  await logIn(j, byEmail.email, { stepName: 'login-email' });
  await expectMe(j, byEmail, undefined, 'me-email');
  const session2 = (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-session');
  assert.ok(session2 && session2.expires === -1, 'without «Remember me» the cookie ends with the browser');
}

/** «Log out» in the header ends the session; «My data» asks to log in again. */
export async function logOutJourney(j) {
  const { t } = j;
  const who = { ...person(j), email: j.email() };
  await createAccount(j.baseUrl, j.outbox, { ...who, password: t.password, lang: t.lang });
  await j.goto('/me');
  await j.expectPath('/login?next=%2Fme');
  await logIn(j, who.email);
  await expectMe(j, who);
  await logOut(j);
  await j.step('logged-out', { doc: '12-logged-out' });
  await navigate(j, () => j.goto('/me'));
  await j.expectPath('/login?next=%2Fme');
  assert.equal((await j.page.locator('header').innerText()).includes(t.logout), false, 'no «Log out» any more');
}

/** The switcher link changes the language and comes back to the same page. */
export async function switchLanguage(j) {
  const { t } = j;
  const other = t.lang === 'ru' ? 'en' : 'ru';
  const titles = { ru: 'Регистрация', en: 'Registration' };
  await j.goto('/register?via=email');
  await j.expectH1(titles[t.lang]);
  await j.step('register');
  await clickLink(j, t.otherLangName);
  await j.expectPath('/register?via=email');
  assert.equal(await j.page.getAttribute('html', 'lang'), other);
  await j.expectH1(titles[other]);
  await j.step(`register-${other}`);
  // The choice is remembered over the browser's own languages.
  await j.goto('/login');
  assert.equal(await j.page.getAttribute('html', 'lang'), other);
  await j.step(`login-${other}`);
  await clickLink(j, other === 'en' ? 'Русский' : 'English');
  assert.equal(await j.page.getAttribute('html', 'lang'), t.lang);
  await j.expectPath('/login');
  await j.step('login');
}

/** Home, services, terms and privacy: reachable by links, each checked. */
export async function staticPages(j) {
  const { t, page } = j;
  await j.goto('/');
  await j.expectH1(t.homeTitle);
  await j.step('home');
  await navigate(j, () => page.locator('header nav').getByRole('link', { name: t.navServices, exact: true }).click());
  await j.expectPath('/services');
  await j.step('services');
  await navigate(j, () => page.locator('footer').getByRole('link', { name: t.terms, exact: true }).click());
  await j.expectPath('/terms');
  await j.step('terms');
  await navigate(j, () => page.locator('footer').getByRole('link', { name: t.privacy, exact: true }).click());
  await j.expectPath('/privacy');
  await j.step('privacy');
}

// ------------------------------------------------------------------ keyboard only

/**
 * Presses Tab until the focus is on an element matching `selector`, and
 * checks each stop shows where the focus is.
 */
export async function tabTo(j, selector, { max = 40, back = false } = {}) {
  const page = j.page;
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const hit = await page.evaluate((sel) => {
      const el = document.activeElement;
      if (!el || el === document.body) return { matches: false, visible: true };
      const cs = getComputedStyle(el);
      const visible = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
      return { matches: el.matches(sel), visible, what: el.outerHTML.slice(0, 80) };
    }, selector);
    assert.ok(hit.visible, `the focus is visible on ${hit.what}`);
    if (hit.matches) return;
  }
  throw new Error(`Tab never reached ${selector} on ${page.url()}`);
}

export async function typeInto(j, selector, text) {
  await tabTo(j, selector);
  await j.page.keyboard.type(text);
}

/** The whole phone journey with the keyboard alone: Tab, Space, Enter, typing. */
export async function keyboardOnly(j) {
  const { t, page } = j;
  const who = { ...person(j), phone: j.phone() };
  const kb = page.keyboard;
  await j.goto('/');
  // The skip link comes first and leads to the content.
  await kb.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await j.step('skip-link');
  // To the registration form through the header.
  await tabTo(j, 'header a[href="/register"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/register');
  await typeInto(j, '#surname', who.surname);
  await typeInto(j, '#given_name', who.givenName);
  await typeInto(j, '#phone', who.phone.typed);
  await tabTo(j, '#accept_terms');
  await kb.press('Space');
  assert.ok(await page.isChecked('#accept_terms'), 'Space ticks the consent');
  await j.step('register-typed');
  await tabTo(j, 'form button[type=submit]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/register/confirm');

  await j.step('confirm-code');
  const code = await j.outbox.code(who.phone.e164);
  await typeInto(j, '#code', code);
  await navigate(j, () => kb.press('Enter')); // Enter in a field sends its form
  await j.expectPath('/register/password');

  await typeInto(j, '#password', t.password);
  await typeInto(j, '#password_confirmation', t.password);
  await tabTo(j, 'form button[type=submit]');
  await j.step('password-typed');
  await navigate(j, () => kb.press('Space')); // Space presses a button too
  await j.expectPath('/register/done');
  await j.step('done');

  await tabTo(j, 'a[href="/login?next=%2Fme"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/login?next=%2Fme');
  await j.step('login');
  await typeInto(j, '#login', who.phone.typed);
  await typeInto(j, '#password', t.password);
  await tabTo(j, '#remember_me');
  await kb.press('Space');
  await tabTo(j, 'form button[type=submit]');
  await navigate(j, () => kb.press('Enter'));
  await expectMe(j, who);

  // Log out from the header's button.
  await tabTo(j, 'header button');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/login?logged_out=1');
  await j.step('logged-out');
}

/** The e-mail form, the resend form and the password form with the keyboard alone. */
export async function keyboardOnlyEmail(j) {
  const { t, page } = j;
  const who = { ...person(j), email: j.email() };
  const kb = page.keyboard;
  await j.goto('/register');
  await tabTo(j, 'main a[href="/register?via=email"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/register?via=email');
  await typeInto(j, '#surname', who.surname);
  await typeInto(j, '#given_name', who.givenName);
  await typeInto(j, '#email', who.email);
  await tabTo(j, '#accept_terms');
  await kb.press('Space');
  await j.step('register-email-typed');
  await tabTo(j, 'form button[type=submit]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/register/confirm');
  await j.step('check-email');
  const { url } = await j.outbox.link(who.email);
  if (!j.cfg.js) {
    // The resend form by keyboard: too early, and the page says when.
    await tabTo(j, 'form.resend button');
    const status = await navigate(j, () => kb.press('Enter'));
    assert.equal(status, 429);
    assert.match(await page.locator('p#resend').innerText(), t.tooMany);
    await j.step('resend-too-early');
  } else {
    // A disabled button is not a tab stop; it wakes up after 60 s.
    assert.ok(await button(j, t.resendEmail).isDisabled());
  }
  // The link in the letter: its page, and «Подтвердить» by the keyboard.
  await openEmailLink(j, url, { stepName: 'email-link', who: `${who.surname} ${who.givenName}, ${who.email}` });
  await tabTo(j, 'main form button[type=submit]');
  assert.equal((await page.evaluate(() => document.activeElement.textContent)).trim(), t.linkConfirmButton);
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/register/password');
  await typeInto(j, '#password', t.password);
  await typeInto(j, '#password_confirmation', t.password);
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/register/done');
  await j.step('done');
  await tabTo(j, 'a[href="/services"].button');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/services');
  await j.step('services');
}

// ------------------------------------------------------------------ the standard account

/** Types the personal data of `c` into the form (names are pre-filled). */
export async function fillPersonalData(j, c, snils) {
  const { page } = j;
  assert.equal(await page.inputValue('#surname'), c.surname, 'the surname comes from the registration');
  assert.equal(await page.inputValue('#given_name'), c.givenName, 'the given name comes from the registration');
  await page.fill('#patronymic', c.patronymic);
  await page.selectOption('#sex', c.sex);
  await page.fill('#birth_date', c.birthDate);
  await page.fill('#birth_place', c.birthPlace);
  await page.fill('#snils', snils);
  await page.fill('[id="document.series_number"]', c.passport);
  await page.fill('[id="document.issue_date"]', c.issueDate);
  await page.fill('[id="document.issued_by"]', c.issuedBy);
  await page.fill('[id="document.department_code"]', c.departmentCode);
}

/** Waits until the check page shows `text`: live with JS, by refresh without. */
export async function waitForCheckResult(j, text) {
  await j.page.getByText(text, { exact: false }).first().waitFor({ timeout: 30_000 });
  await j.page.waitForLoadState('load');
}

/**
 * Log in → «Заполнить личные данные» → a typo in the SNILS → a SNILS the
 * Social Fund does not know → the check fails and says why → «Исправить
 * данные» → the right SNILS → both checks pass → «стандартная» → addresses →
 * log in by SNILS.
 */
export async function standardAccount(j) {
  const { t, page } = j;
  const c = citizen(j.seq);
  const phone = j.phone();
  await createAccount(j.baseUrl, j.outbox, { surname: c.surname, givenName: c.givenName, phone, password: t.password, lang: t.lang });
  await j.goto('/login?next=%2Fme');
  await logIn(j, phone.typed, { stepName: 'login' });
  await j.expectPath('/me');
  await j.expectText(t.levelSimplified);

  await clickLink(j, t.fillPersonalData);
  await j.expectPath('/me/personal-data');
  await j.expectH1(t.pdTitle);
  await j.step('personal-data', { doc: '13-personal-data' });

  // A typo in the SNILS: named, the rest kept.
  const typo = c.snils.slice(0, -1) + String((Number(c.snils.slice(-1)) + 1) % 10);
  await fillPersonalData(j, c, typo);
  if (j.cfg.js) {
    // Checked as the person types: leaving the field shows the problem.
    await page.locator('#snils').blur();
    assert.equal((await page.locator('#snils-error').innerText()).trim(), t.snilsCheck, 'the SNILS is checked in the browser');
  }
  assert.equal(await clickButton(j, t.pdSubmit), 422);
  await expectFieldError(j, 'snils', t.snilsCheck);
  await expectErrorSummaryFocused(j);
  assert.equal(await page.inputValue('#birth_place'), c.birthPlace, 'entries kept');
  await j.step('personal-data-errors');

  // «Продолжить позже» keeps a draft.
  await page.fill('#snils', c.unknownSnils);
  await clickButton(j, t.pdLater);
  await j.expectText(t.pdSaved);
  assert.equal(await page.inputValue('#snils'), c.unknownSnils);

  // A SNILS the Social Fund does not know: the check says so.
  assert.equal(await clickButton(j, t.pdSubmit), 200);
  await j.expectPath('/me/verification');
  await j.expectText(t.checkSfr);
  await j.expectText(t.checkMvd);
  await j.step('checking', { doc: '14-checking' });
  await waitForCheckResult(j, t.checkFailed);
  await j.expectText(t.snilsNotFound);
  await j.step('check-failed');

  await clickLink(j, t.correctData);
  await j.expectPath('/me/personal-data');
  assert.equal(await page.inputValue('#snils'), c.unknownSnils, 'the entries wait for the correction');
  await page.fill('#snils', c.snils);
  assert.equal(await clickButton(j, t.pdSubmit), 200);
  await j.expectPath('/me/verification');
  await waitForCheckResult(j, t.verified);
  await j.step('verified', { doc: '15-verified' });

  await clickLink(j, t.toMyData);
  await j.expectPath('/me');
  await j.expectText(t.levelStandard);
  await j.expectText(c.snils);
  await j.expectText(c.passport);
  await j.step('me-standard', { doc: '16-me-standard' });

  // Addresses, the same for registration and living.
  await clickLink(j, t.giveAddresses);
  await j.expectPath('/me/addresses');
  await j.expectH1(t.addressesTitle);
  await page.fill('[id="registration.postal_code"]', '248000');
  await page.fill('[id="registration.region"]', 'Калужская обл.');
  await page.fill('[id="registration.locality"]', 'г. Калуга');
  await page.fill('[id="registration.street"]', 'ул. Ленина');
  await page.fill('[id="registration.house"]', '5');
  await page.check('#same');
  if (j.cfg.js) assert.equal(await page.locator('#actual-address').isVisible(), false, 'the second address folds away');
  await j.step('addresses');
  await clickButton(j, t.save);
  await j.expectPath('/me?addresses_saved=1');
  await j.expectText(t.addressesSaved);
  await j.expectText('248000, Калужская обл., г. Калуга, ул. Ленина, 5');

  // The SNILS logs in now.
  await logOut(j);
  await j.goto('/login?next=%2Fme');
  await logIn(j, c.snils, { stepName: 'login-snils' });
  await j.expectPath('/me');
  await j.expectText(t.levelStandard);
}

/** Personal data, the checks and the addresses with the keyboard alone. */
export async function keyboardOnlyStandard(j) {
  const { t, page } = j;
  const kb = page.keyboard;
  const c = citizen(j.seq);
  const phone = j.phone();
  await createAccount(j.baseUrl, j.outbox, { surname: c.surname, givenName: c.givenName, phone, password: t.password, lang: t.lang });
  await j.goto('/login?next=%2Fme');
  await typeInto(j, '#login', phone.typed);
  await typeInto(j, '#password', t.password);
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me');

  await tabTo(j, 'main a[href="/me/personal-data"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me/personal-data');
  await typeInto(j, '#patronymic', c.patronymic);
  await tabTo(j, '#sex');
  // A closed list moves with the arrows: «Не указан» → «Мужской» → «Женский».
  await kb.press('ArrowDown');
  await kb.press('ArrowDown');
  assert.equal(await page.inputValue('#sex'), 'female', 'the sex is chosen with the arrow keys');
  await typeInto(j, '#birth_date', c.birthDate);
  await typeInto(j, '#birth_place', c.birthPlace);
  await typeInto(j, '#snils', c.snils);
  await typeInto(j, '[id="document.series_number"]', c.passport);
  await typeInto(j, '[id="document.issue_date"]', c.issueDate);
  await typeInto(j, '[id="document.issued_by"]', c.issuedBy);
  await typeInto(j, '[id="document.department_code"]', c.departmentCode);
  await j.step('personal-data-typed');
  await tabTo(j, 'button[value="submit"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me/verification');
  await waitForCheckResult(j, t.verified);
  await j.step('verified');

  await tabTo(j, 'main a[href="/me"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectText(t.levelStandard);
  await tabTo(j, 'main a[href="/me/addresses"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me/addresses');
  await typeInto(j, '[id="registration.postal_code"]', '248000');
  await typeInto(j, '[id="registration.region"]', 'Калужская обл.');
  await typeInto(j, '[id="registration.locality"]', 'г. Калуга');
  await typeInto(j, '[id="registration.street"]', 'ул. Ленина');
  await typeInto(j, '[id="registration.house"]', '5');
  await tabTo(j, '#same');
  await kb.press('Space');
  assert.ok(await page.isChecked('#same'), 'Space ticks «same as registration»');
  await tabTo(j, 'form button[type=submit]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me?addresses_saved=1');
  await j.expectText(t.addressesSaved);
  await j.step('addresses-saved');
}

/** «Зарегистрироваться в центре обслуживания» → search → a center's week. */
export async function serviceCenters(j) {
  const { t, page } = j;
  await j.goto('/register');
  await clickLink(j, t.registerAtCenter);
  await j.expectPath('/service-centers?service=registration');
  await j.expectH1(t.centersTitle);
  assert.equal(await page.inputValue('#service'), 'registration', 'the service comes from the link');
  const all = Number((await j.expectText(t.centersFound)).match(t.centersFound)[1]);
  assert.ok(all >= 30, `the shipped centers offer registration: ${all}`);
  await j.step('centers', { doc: '17-centers' });

  // Kogalym: one center registers; three confirm identity.
  await page.fill('#q', 'Когалым');
  await clickButton(j, t.centersSearch);
  await j.expectText(t.centersFound);
  assert.equal(await page.locator('li.center').count(), 1);
  await page.selectOption('#service', 'identity_confirmation');
  await clickButton(j, t.centersSearch);
  assert.equal(await page.locator('li.center').count(), 3);
  await j.expectText(t.centersLunch);
  await j.expectText('UTC+05:00');
  await j.step('centers-kogalym');

  await page.fill('#q', 'Атлантида');
  await clickButton(j, t.centersSearch);
  await j.expectText(t.centersNone);
  await j.step('centers-none');
}
