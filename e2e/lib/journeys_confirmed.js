// The journeys of the confirmed account (issue 6): a citizen confirms their
// identity with the code of a registered letter; an operator of a service
// center enrols with an authenticator app, logs in with the second factor,
// finds a citizen and confirms their identity, registers a citizen in
// person, and restores a citizen's access. The standard accounts these
// journeys start from are made through the JSON API: the browser journeys
// of the personal data are in journeys.js.
import assert from 'node:assert/strict';
import { createStandardAccount } from './api.js';
import { REGISTERED_ADDRESS, REGISTERED_ADDRESS_MASKED, citizen } from './citizens.js';
import {
  clickButton,
  clickLink,
  expectErrorSummaryFocused,
  expectFieldError,
  link,
  logIn,
  logOut,
  navigate,
  tabTo,
  typeInto,
  waitForCheckResult,
} from './journeys.js';
import { Authenticator, CENTER_NAME, addOperator, addOperatorsAtOnce, newOperator } from './operator.js';
import { POST_DELIVERY_S } from './server.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ helpers

/** An element by its id, which may hold dots (`address.postal_code`). */
const byId = (j, id) => j.page.locator(`[id="${id}"]`);

const text = async (locator) => (await locator.innerText()).trim();

/** The account level on «Мои данные» (the badge of the general section, not the list of levels). */
const levelOnMe = (j) => text(j.page.locator('main section[aria-labelledby="general"] .level'));

/** Today in Moscow, as the portal writes dates: DD.MM.YYYY. */
function todayInMoscow() {
  return new Intl.DateTimeFormat('ru-RU', { timeZone: 'Europe/Moscow', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date());
}

/** «по коду из заказного письма, 01.12.2026 12:30 (МСК)»: how and when, today. */
function confirmedNote(j, via) {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${esc(via)}, ${esc(todayInMoscow())} \\d{2}:\\d{2} \\((МСК|Moscow time)\\)$`);
}

/** Logs in at /login without a step of its own: the login page is another journey's. */
async function quietLogIn(j, login, password, { next = '/me' } = {}) {
  await j.goto(`/login?next=${encodeURIComponent(next)}`);
  await j.page.fill('#login', login);
  await j.page.fill('#password', password);
  const status = await clickButton(j, j.t.loginButton);
  assert.equal(status, 200, 'logged in');
}

/** The addresses the journey's citizen saves on «Адреса»; the letter ignores them. */
function addresses() {
  return {
    registration: { postalCode: '248000', region: 'Калужская обл.', locality: 'г. Калуга', street: 'ул. Ленина', house: '5' },
    actual: { postalCode: '248017', region: 'Калужская обл.', locality: 'г. Калуга', street: 'ул. Хрустальная', house: '12', building: '2', flat: '34' },
  };
}

/** Types the twelve personal data fields of `c` into an empty form (the operator's). */
async function fillCitizen(j, c) {
  const { page } = j;
  await page.fill('#surname', c.surname);
  await page.fill('#given_name', c.givenName);
  await page.fill('#patronymic', c.patronymic);
  await page.selectOption('#sex', c.sex);
  await page.fill('#birth_date', c.birthDate);
  await page.fill('#birth_place', c.birthPlace);
  await page.fill('#snils', c.snils);
  await page.fill('[id="document.series_number"]', c.passport);
  await page.fill('[id="document.issue_date"]', c.issueDate);
  await page.fill('[id="document.issued_by"]', c.issuedBy);
  await page.fill('[id="document.department_code"]', c.departmentCode);
}

const fullName = (c) => `${c.surname} ${c.givenName} ${c.patronymic}`;

// ------------------------------------------------------------------ the operator's pieces

/**
 * Opens the enrolment link, reads the key, and enrols with name, login,
 * password and the app's code. With `steps`, also looks at the page, and
 * sends a wrong code first. Returns the operator's authenticator app.
 */
async function enrol(j, op, { link: url, steps = false }) {
  const { t, page } = j;
  const status = await navigate(j, () => page.goto(url));
  assert.equal(status, 200, 'the enrolment page');
  await j.expectH1(t.enrolTitle);
  const key = await text(page.locator('#totp-key'));
  assert.match(key, /^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/, 'a 160-bit base32 key in groups of four');
  const auth = new Authenticator(key);
  if (steps) {
    await j.expectLang();
    const intro = await text(page.locator('main p').first());
    assert.ok(intro.includes(CENTER_NAME), `the center is named: ${intro}`);
    const role = await text(page.locator('main p').nth(1));
    assert.ok(role.includes(t.roleOperator), `the role is named: ${role}`);
    const qr = page.locator('p.qr img');
    assert.match(await qr.getAttribute('src'), /^data:image\//, 'the QR code is a data: URI');
    assert.equal(await qr.getAttribute('alt'), t.enrolQrAlt);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code is drawn');
    await j.soft('«Подключение оператора» says until when the link works', async () => {
      const note = await text(page.locator('main form p.note'));
      assert.doesNotMatch(note, /^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \([^)]*\)$/, `the date says what it is: «${note}»`);
    });
    await j.step('operator-enrol', { doc: '22-operator-enrol' });

    // A wrong code first, and nothing else: each field says what it lacks.
    await page.fill('#code', auth.wrong('000000'));
    assert.equal(await clickButton(j, t.enrolSubmit), 422);
    await expectFieldError(j, 'code', t.enrolCodeError);
    for (const f of ['name', 'login', 'password']) {
      assert.equal(await page.locator(`#${f}-error`).count(), 1, `an error for ${f}`);
    }
    await expectErrorSummaryFocused(j);
    assert.equal(await text(page.locator('#totp-key')), key, 'the same key after an error');
    await j.soft('the error summary of «Подключение оператора» names the fields, in the order of the form', async () => {
      const items = await page.locator('#error-summary li a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent.trim()]));
      const byField = Object.fromEntries(items);
      assert.equal(byField['#login'], `${t.consoleLoginLabel}: ${t.errRequired}`, `the login's item says «${t.consoleLoginLabel}»: ${JSON.stringify(items)}`);
      assert.equal(byField['#name'], `${t.fullNameLabel}: ${t.errRequired}`, `the name's item says which field: ${JSON.stringify(items)}`);
      assert.deepEqual(items.map(([href]) => href), ['#name', '#login', '#password', '#code'], 'the order of the form');
    });
    await j.step('operator-enrol-errors');
  }
  await page.fill('#name', op.name);
  await page.fill('#login', op.login);
  await page.fill('#password', op.password);
  await page.fill('#password_confirmation', op.password);
  await page.fill('#code', await auth.next());
  await clickButton(j, t.enrolSubmit);
  await j.expectPath('/operator/login?enrolled=1');
  return auth;
}

/** The console's login form: login, password and the app's next code. */
async function consoleLogIn(j, op, auth) {
  const { t, page } = j;
  await page.fill('#login', op.login);
  await page.fill('#password', op.password);
  await page.fill('#code', await auth.next());
  assert.equal(await clickButton(j, t.consoleLogIn), 200);
  await j.expectPath('/operator');
  await j.expectH1(t.searchTitle);
}

/** An operator of the Kaluga center at the desk: added with the CLI, enrolled, logged in. */
async function operatorAtDesk(j) {
  const op = newOperator(j);
  const auth = await enrol(j, op, { link: await addOperator(j.server) });
  await consoleLogIn(j, op, auth);
  return { op, auth };
}

/** «Поиск гражданина»: one search; the links of the accounts found. */
async function search(j, by, value) {
  const { t, page } = j;
  await page.check(`#by-${by}`);
  await page.fill('#value', value);
  assert.equal(await clickButton(j, t.searchSubmit), 200, `search by ${by}`);
  assert.ok(await page.isChecked(`#by-${by}`), 'the kind of search stays chosen');
  const heading = await text(page.locator('#results'));
  const m = heading.match(t.searchFound);
  assert.ok(m, `«${heading}»`);
  const hrefs = await page.locator('#search-results ul.results a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.equal(hrefs.length, Number(m[1]), 'as many links as found');
  return hrefs;
}

/**
 * Where a card's action leads: the card again, with what was done and the
 * grant its search result's link carried (a card opens only with it).
 */
function afterAction(href, done) {
  const u = new URL(href, 'http://desk.invalid');
  assert.ok(u.searchParams.get('grant'), `the search result's link carries a grant: ${href}`);
  return `${u.pathname}?done=${done}&grant=${u.searchParams.get('grant')}`;
}

// ------------------------------------------------------------------ the citizen: a code by registered letter

/**
 * «Мои данные» → «Подтвердить личность» → the ways to confirm → the
 * delivery address (errors named, then right) → «Заказать письмо» → the
 * letter is handed to the post: ШПИ, «принято в отделении связи» (then «в
 * пути») → the letter's copy in the outbox → a wrong code → the right code
 * → «подтверждённая», «✓ подтверждена» → the SMS.
 */
export async function identityByLetter(j) {
  const { t, page } = j;
  const c = citizen(j.seq);
  const phone = j.phone();
  // Addresses saved on «Адреса» (without JavaScript) change nothing: the
  // letter goes to the address the Interior Ministry returned.
  const saved = !j.cfg.js;
  await createStandardAccount(j.baseUrl, j.outbox, { c, phone, password: t.password, lang: t.lang, addresses: saved ? addresses() : undefined });
  await quietLogIn(j, phone.typed, t.password);
  await j.expectPath('/me');
  assert.equal(await levelOnMe(j), t.levelStandard);

  await clickLink(j, t.confirmIdentity);
  await j.expectPath('/me/identity');
  await j.expectLang();
  await j.expectH1(t.pdTitle);
  assert.equal(await text(page.locator('main h2').first()), t.identityTitle);
  const h3 = await page.locator('main h3').allInnerTexts();
  assert.deepEqual(h3.map((s) => s.trim()), [t.inPerson, t.byLetter], 'two ways: in person, by letter');
  assert.equal(await link(j, t.inPersonLink).getAttribute('href'), '/service-centers?service=identity_confirmation');
  assert.equal(await text(byId(j, 'letter-address')), REGISTERED_ADDRESS_MASKED, 'the registered address, masked');
  assert.ok((await text(page.locator('main form[action="/me/identity/letter"]'))).includes(t.letterAddress));
  assert.equal(await page.locator('input[name^="address."]').count(), 0, 'no address to type');
  await j.step('identity', { doc: '18-identity' });

  const a = REGISTERED_ADDRESS;
  assert.equal(await clickButton(j, t.orderLetter), 200);
  await j.expectPath('/me/identity?ordered=1');
  // The worker may have handed the letter to the post before the page was
  // drawn: then the notice no longer promises the ШПИ, it shows it.
  const sentAlready = (await page.locator('#tracking').count()) > 0;
  assert.equal(
    await text(page.locator('main p.notice[role=status]').first()),
    sentAlready ? t.letterOrderedSent : t.letterOrdered,
  );
  const first = await text(page.locator('#letter-status'));
  assert.ok(Object.values(t.letterStatus).includes(first), `the letter's status: «${first}»`);
  if (await page.locator('#tracking').count() === 0) {
    assert.equal(first, t.letterStatus.queued, 'no tracking number while the letter waits for the post');
  }
  await j.step('letter-ordered', { doc: '19-letter-ordered' });

  // The worker hands the letter to the post within a second or so: reload until the ШПИ is there.
  const deadline = Date.now() + 20_000;
  let shownBy = Date.now(); // the page was rendered before this moment
  while (await page.locator('#tracking').count() === 0) {
    assert.ok(Date.now() < deadline, 'the letter reached the post within 20 s');
    await sleep(400);
    await navigate(j, () => page.reload());
    shownBy = Date.now();
  }
  const tracking = await text(page.locator('#tracking'));
  assert.match(tracking, /^\d{14}$/, 'a 14-digit tracking number');
  const dl = await text(page.locator('main dl.data'));
  assert.ok(dl.includes(t.tracking), `«${t.tracking}»:\n${dl}`);
  assert.ok(dl.includes(t.codeValidTill), `«${t.codeValidTill}»:\n${dl}`);
  await j.expectText(t.trackingFrom);

  // The letter as the post got it (the copy in the outbox): address, name, ШПИ, code.
  const letter = await j.outbox.letter(tracking);
  assert.equal(letter.channel, 'post');
  for (const part of [a.postal_code, a.region, a.locality, a.street, `д. ${a.house}`, `кв. ${a.flat}`, fullName(c)]) {
    assert.ok(letter.to.includes(part), `«${part}» on the envelope: ${letter.to}`);
  }
  assert.ok(letter.body.includes(`ШПИ ${tracking}`), `the ШПИ in the letter: ${letter.body}`);
  assert.match(letter.code, /^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/, 'eight symbols without 0, O, 1, I, L, grouped by four');

  // Accepted at the post office, in transit after a tenth of the delivery time.
  const status = await text(page.locator('#letter-status'));
  // The copy is made as the post accepts the letter; the page was rendered before `shownBy`.
  const age = shownBy - Date.parse(letter.created_at);
  const inTransitAfter = POST_DELIVERY_S * 100; // ms: 10 % of the delivery time
  if (age < inTransitAfter - 200) assert.equal(status, t.letterStatus.accepted, `the status at most ${age} ms after the post took the letter`);
  else assert.ok([t.letterStatus.accepted, t.letterStatus.in_transit].includes(status), `the status ${age} ms after the post took the letter: «${status}»`);
  await j.step('letter-sent');
  if (j.cfg.name === 'desktop-js-ru') {
    // Rendered after the reload starts, so at least 2.7 s after the post took it.
    await sleep(Math.max(0, Date.parse(letter.created_at) + inTransitAfter + 700 - Date.now()));
    await navigate(j, () => page.reload());
    assert.equal(await text(page.locator('#letter-status')), t.letterStatus.in_transit, 'in transit after 10 % of the delivery time');
  }

  // A wrong code: refused, with the attempts left.
  const wrong = letter.code === 'ZZZZ-ZZZZ' ? 'YYYY-YYYY' : 'ZZZZ-ZZZZ';
  await page.fill('#code', wrong);
  assert.equal(await clickButton(j, t.checkCode), 422);
  const msg = await expectFieldError(j, 'code', t.codeWrong);
  assert.equal(Number(msg.match(t.codeWrong)[1]), 9, 'ten tries per letter');
  await expectErrorSummaryFocused(j);
  await j.step('letter-wrong-code');

  // The right code, typed on «Мои данные» (desktop, phone) or on the identity page (kiosk);
  // on a phone as a person may type it: small letters, a space for the hyphen.
  const typed = j.cfg.viewport === 'phone' ? letter.code.toLowerCase().replace('-', ' ') : letter.code;
  if (j.cfg.viewport !== 'kiosk') {
    await navigate(j, () => page.locator('header nav a[href="/me"]').click());
    await j.expectPath('/me');
    assert.equal(await text(page.locator('#letter-code')), t.byLetter);
    const section = await text(page.locator('section[aria-labelledby="letter-code"]'));
    assert.ok(section.includes(tracking), `the ШПИ on «Мои данные»:\n${section}`);
    assert.equal(await page.locator('section[aria-labelledby="letter-code"] input[name=from]').getAttribute('value'), 'me');
    await page.fill('#code', typed);
    await j.step('letter-code', { doc: '20-letter-code' });
    assert.equal(await clickButton(j, t.checkCode), 200);
    await j.expectPath('/me');
  } else {
    await page.fill('#code', typed);
    assert.equal(await clickButton(j, t.checkCode), 200);
    await j.expectPath('/me/identity');
    await j.expectText(t.identityConfirmed);
    await j.step('identity-confirmed');
    await navigate(j, () => page.locator('header nav a[href="/me"]').click());
    await j.expectPath('/me');
  }
  assert.equal(await levelOnMe(j), t.levelConfirmed);
  assert.equal(await text(page.locator('#confirmed-mark')), t.confirmedMark);
  assert.match(await text(page.locator('#confirmed-mark + .note')), confirmedNote(j, t.viaLetter));
  assert.equal(await page.locator('#letter-code').count(), 0, 'no code form any more');
  assert.equal(await link(j, t.confirmIdentity).count(), 0, 'nothing left to confirm');
  await j.step('confirmed', { doc: '21-confirmed' });

  const sms = await j.outbox.waitFor(phone.e164, t.confirmedSms, { channel: 'sms' });
  assert.ok(sms.body.includes(`${j.baseUrl}/services`), `the SMS leads to the services: ${sms.body}`);
}

// ------------------------------------------------------------------ the operator: enrolment and login

/**
 * The link of `uslugi admin operator add` → «Подключение оператора» (QR
 * code, key) → a wrong code → name, login, password, the app's code → «Вы
 * подключены» → a wrong code at login → the next step's code → the desk
 * (name, role, center) → «Выйти» → the link does not work twice.
 */
export async function operatorEnrolAndLogIn(j) {
  const { t, page } = j;
  const op = newOperator(j);
  const url = await addOperator(j.server);
  const auth = await enrol(j, op, { link: url, steps: true });
  assert.equal(await text(page.locator('main p.notice')), t.enrolDone);
  await j.expectH1(t.consoleLoginTitle);
  await j.step('operator-login');

  // Everything right but the code: one answer for any mistake.
  await page.fill('#login', op.login);
  await page.fill('#password', op.password);
  await page.fill('#code', auth.wrong());
  assert.equal(await clickButton(j, t.consoleLogIn), 401);
  await j.expectPath('/operator/login');
  await j.expectText(t.consoleBadCredentials, '#error-summary');
  assert.equal(await page.inputValue('#login'), op.login, 'the login stays typed');
  assert.equal(await page.inputValue('#password'), '', 'the password is not sent back');
  await expectErrorSummaryFocused(j);
  await j.step('operator-login-wrong-code');

  // The code of the enrolment's step is used: the app's next one works.
  await consoleLogIn(j, op, auth);
  assert.equal(await text(page.locator('#desk')), `${op.name} · ${t.roleOperator} · ${CENTER_NAME}`);
  const nav = (await page.locator('header nav a').allInnerTexts()).map((s) => s.trim());
  for (const item of [t.searchTitle, t.navRegisterCitizen]) assert.ok(nav.includes(item), `«${item}» in the console's menu: ${nav}`);
  const cookie = (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-operator');
  assert.ok(cookie?.value && cookie.httpOnly && cookie.secure, 'the console has its own secure cookie');
  await j.step('operator-desk');

  await clickButton(j, t.consoleLogOut);
  await j.expectPath('/operator/login?logged_out=1');
  assert.equal(await text(page.locator('main p.notice')), t.consoleLoggedOut);
  const gone = (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-operator');
  assert.ok(!gone || gone.value === '', 'the console cookie is gone');
  await j.step('operator-logged-out');
  await navigate(j, () => j.goto('/operator'));
  await j.expectPath('/operator/login');

  // The enrolment link works once.
  assert.equal(await navigate(j, () => page.goto(url)), 404, 'a used enrolment link');

  // Three administrators add operators at the same moment, beside the running portal.
  const failed = await addOperatorsAtOnce(j.server, 3);
  await j.soft('three `uslugi admin operator add` at once beside the server all add their operator', async () => {
    assert.deepEqual(failed, [], 'every run adds its operator (SQLite waits for the lock: busy timeout 10 s)');
  });
}

// ------------------------------------------------------------------ the operator: identity in person

/**
 * A standard citizen (logged in in their own browser) comes to the center;
 * the operator finds them by SNILS, phone and passport (and an unknown SNILS
 * finds nobody), compares the passport, ticks one box (refused), both
 * (confirmed); the citizen's «Мои данные» shows it in the same session.
 */
export async function operatorConfirmsIdentity(j) {
  const { t, page } = j;
  const c = citizen(j.seq);
  const phone = j.phone();
  await createStandardAccount(j.baseUrl, j.outbox, { c, phone, password: t.password, lang: t.lang });
  const visitor = await j.person();
  await j.as(visitor, async () => {
    await quietLogIn(j, phone.typed, t.password);
    await j.expectPath('/me');
    assert.equal(await levelOnMe(j), t.levelStandard);
  });

  await operatorAtDesk(j);
  assert.deepEqual(await search(j, 'snils', c.unknownSnils), [], 'an unknown SNILS finds nobody');
  await j.expectText(t.searchNothing, '#search-results');
  await j.step('operator-not-found');

  const bySnils = await search(j, 'snils', c.snils);
  assert.equal(bySnils.length, 1, 'one account by SNILS');
  const item = await text(page.locator('#search-results ul.results li'));
  assert.ok(item.includes(fullName(c)) && item.includes(t.levelStandard), `the result: ${item}`);
  await j.step('operator-search', { doc: '23-operator-search' });
  // Each search hands out its own grant (its expiry is the search's time):
  // the same account is the same card path; the page holds the last links.
  const cards = (hrefs) => hrefs.map((h) => new URL(h, j.baseUrl).pathname);
  assert.deepEqual(cards(await search(j, 'phone', phone.typed)), cards(bySnils), 'the same account by phone');
  const found = await search(j, 'passport', c.passport);
  assert.deepEqual(cards(found), cards(bySnils), 'the same account by passport');

  await navigate(j, () => page.locator('#search-results ul.results a').first().click());
  await j.expectPath(found[0]);
  await j.expectH1(t.cardTitle);
  assert.equal(await text(page.locator('#citizen-name')), fullName(c));
  assert.equal(await text(page.locator('#citizen-level')), t.levelStandard);
  const doc = await text(page.locator('#citizen-document'));
  for (const part of [c.passport, `${c.issueDate}, ${c.issuedBy}`, c.departmentCode, `${c.birthDate}, ${c.birthPlace}`, c.snils]) {
    assert.ok(doc.includes(part), `«${part}» to compare with the passport:\n${doc}`);
  }
  await j.step('operator-card', { doc: '24-operator-card' });

  // One box ticked: refused.
  await page.check('#confirm-document');
  assert.equal(await clickButton(j, t.confirmSubmit), 422);
  await j.expectText(t.checklistError, '#error-summary');
  assert.equal(await text(page.locator('#citizen-level')), t.levelStandard, 'nothing changed');
  await expectErrorSummaryFocused(j);
  await j.soft('the ticked point of the check stays ticked after «Отметьте оба пункта проверки»', async () => {
    assert.ok(await page.isChecked('#confirm-document'), 'the box the operator ticked is kept, as every form keeps its entries');
  });
  await j.step('operator-checklist');

  await page.check('#confirm-document');
  await page.check('#confirm-person');
  assert.equal(await clickButton(j, t.confirmSubmit), 200);
  await j.expectPath(afterAction(found[0], 'confirmed'));
  assert.equal(await text(page.locator('main p.notice')), t.confirmedDone);
  assert.equal(await text(page.locator('#citizen-level')), t.levelConfirmed);
  assert.match(await text(page.locator('#citizen-level + .badge + .note')), confirmedNote(j, t.viaCenter));
  assert.equal(await page.locator('#confirm').count(), 0, 'nothing left to confirm');
  await j.step('operator-confirmed');
  await j.outbox.waitFor(phone.e164, t.confirmedSms, { channel: 'sms' });

  // The citizen, in the session they had: «подтверждённая».
  await j.as(visitor, async () => {
    await navigate(j, () => j.page.reload());
    await j.expectPath('/me');
    assert.equal(await levelOnMe(j), t.levelConfirmed);
    assert.equal(await text(j.page.locator('#confirmed-mark')), t.confirmedMark);
    assert.match(await text(j.page.locator('#confirmed-mark + .note')), confirmedNote(j, t.viaCenter));
    await j.step('citizen-confirmed');
  });
}

// ------------------------------------------------------------------ the operator: registration in person

/**
 * «Зарегистрировать» → the citizen's phone → «Отправить код» → the code the
 * citizen reads out (a wrong one first) → the passport and SNILS of a
 * registry citizen → «Регистрация в центре» until both checks pass → the
 * temporary password by
 * SMS → the citizen logs in with it → «Смена пароля» (and nothing else) →
 * their own password → «подтверждённая» → log out, log in again.
 */
export async function operatorRegistersCitizen(j) {
  const { t, page } = j;
  const c = citizen(j.seq);
  const phone = j.phone();
  await operatorAtDesk(j);
  await navigate(j, () => page.locator('header nav').getByRole('link', { name: t.navRegisterCitizen, exact: true }).click());
  await j.expectPath('/operator/register');
  await j.expectH1(t.registerCitizenTitle);
  assert.equal(await byId(j, 'phone').inputValue(), '', 'phone starts empty');
  assert.equal(await page.locator('#surname').count(), 0, 'no personal data before the phone is confirmed');
  await j.step('operator-register-phone');

  // The phone first: the temporary password goes only to a phone the
  // citizen confirmed at the desk, by reading out the code sent to it.
  await page.fill('#phone', phone.typed);
  assert.equal(await clickButton(j, t.sendCode), 200);
  assert.match(new URL(page.url()).pathname, /^\/operator\/register\/[^/]+$/, 'the code step');
  const deskStep = new URL(page.url()).pathname;
  const code = await j.outbox.code(phone.e164);
  await page.fill('#code', code === '000000' ? '111111' : '000000');
  assert.equal(await clickButton(j, t.confirmPhone), 422);
  await j.expectText(t.deskCodeWrong, '#error-summary');
  await expectErrorSummaryFocused(j);
  await j.step('operator-register-code-wrong');
  await page.fill('#code', code);
  assert.equal(await clickButton(j, t.confirmPhone), 200);
  await j.expectPath(deskStep);
  for (const id of ['surname', 'given_name', 'snils', 'document.series_number']) {
    assert.equal(await byId(j, id).inputValue(), '', `${id} starts empty`);
  }
  assert.ok((await text(page.locator('#desk-phone'))).includes(phone.e164), 'the confirmed phone, shown, not typed again');
  await j.step('operator-register', { doc: '25-operator-register' });

  await fillCitizen(j, c);
  assert.equal(await clickButton(j, t.registerCitizenSubmit), 200);
  assert.match(new URL(page.url()).pathname, /^\/operator\/registrations\/[^/]+$/, 'the registration page');
  // The page carries the grant the registration gave this console session.
  assert.ok(new URL(page.url()).searchParams.get('grant'), 'the registration page opens with a grant');
  const registration = new URL(page.url()).pathname + new URL(page.url()).search;
  await j.expectH1(t.registrationTitle);
  assert.equal(await page.locator('#check-sfr, #check-mvd').count(), 2, 'both checks are listed');
  // The phone is shown masked: the operator typed it, the screen need not repeat it.
  const who = await text(page.locator('main dl.data'));
  const masked = `+7 (${phone.digits.slice(0, 3)}) ***-**-${phone.digits.slice(8, 10)}`;
  assert.ok(who.includes(`${c.surname} ${c.givenName}`) && who.includes(masked), `name and phone (${masked}):\n${who}`);
  if ((await page.getAttribute('#registration', 'data-status')) === 'in_progress') {
    await j.expectText(t.registrationChecking, '#registration-result');
    // The page refreshes itself every 3 s, with and without JavaScript.
    await j.soft('«Регистрация в центре» waits without a timed refresh (axe meta-refresh, WCAG 2.2.1)', () => j.step('operator-registration-checking'));
  }
  await waitForCheckResult(j, t.registrationDone);
  await j.expectPath(registration);
  await j.step('operator-registered');
  await clickLink(j, t.openCard);
  await j.expectH1(t.cardTitle);
  assert.equal(await text(page.locator('#citizen-level')), t.levelConfirmed);
  assert.match(await text(page.locator('#citizen-level + .badge + .note')), confirmedNote(j, t.viaCenter));

  const { password: temporary } = await j.outbox.temporaryPassword(phone.e164);

  // The citizen, at home, with the password from the SMS.
  const home = await j.person();
  await j.as(home, async () => {
    const p = j.page;
    await j.goto('/login');
    await p.fill('#login', phone.typed);
    await p.fill('#password', temporary);
    assert.equal(await clickButton(j, t.loginButton), 200);
    await j.expectPath('/me/password');
    await j.expectH1(t.passwordTitle);
    await j.expectText(t.mustChange);
    assert.equal(await p.locator('#current_password').count(), 0, 'no current password to type');
    assert.equal(await p.locator('#end_other_sessions').count(), 0, 'no other sessions to end');
    await j.step('temporary-password');
    // Nothing else opens before the password is set.
    await navigate(j, () => j.goto('/me'));
    await j.expectPath('/me/password');

    await p.fill('#password', t.newPassword);
    await p.fill('#password_confirmation', t.newPassword);
    assert.equal(await clickButton(j, t.savePassword), 200);
    await j.expectPath('/me?password_changed=1');
    await j.expectText(t.passwordChanged);
    assert.equal(await levelOnMe(j), t.levelConfirmed);
    await j.expectText(`${c.surname} ${c.givenName}`);
    await j.step('password-changed');

    await logOut(j);
    // The temporary password is spent; the new one logs in.
    await logIn(j, phone.typed, { password: temporary, stepName: 'login-temporary-spent', expectStatus: 401 });
    await j.expectText(t.badCredentials, '#error-summary');
    await p.fill('#password', t.newPassword);
    assert.equal(await clickButton(j, t.loginButton), 200);
    await j.expectPath('/me');
    assert.equal(await levelOnMe(j), t.levelConfirmed);
  });
}

// ------------------------------------------------------------------ the operator: access restored

/**
 * A standard citizen who lost their password comes to the center: the
 * operator finds them by phone, ticks both boxes of «Восстановить доступ» →
 * a temporary password by SMS, every session of the citizen ended → the
 * citizen logs in with it and sets their own.
 */
export async function operatorRestoresAccess(j) {
  const { t, page } = j;
  const c = citizen(j.seq);
  const phone = j.phone();
  await createStandardAccount(j.baseUrl, j.outbox, { c, phone, password: t.password, lang: t.lang });
  const visitor = await j.person();
  await j.as(visitor, async () => {
    await quietLogIn(j, phone.typed, t.password);
    await j.expectPath('/me');
  });

  await operatorAtDesk(j);
  const found = await search(j, 'phone', phone.typed);
  assert.equal(found.length, 1, 'one account by phone');
  await navigate(j, () => page.locator('#search-results ul.results a').first().click());
  await j.expectH1(t.cardTitle);
  assert.equal(await text(page.locator('#restore-title')), t.restoreTitle);
  await page.check('#restore-document');
  await page.check('#restore-person');
  assert.equal(await clickButton(j, t.restoreSubmit), 200);
  await j.expectPath(afterAction(found[0], 'restored'));
  assert.equal(await text(page.locator('main p.notice')), t.restoredDone);
  await j.step('operator-restored');
  const { password: temporary } = await j.outbox.temporaryPassword(phone.e164);

  await j.as(visitor, async () => {
    const p = j.page;
    // The session the citizen had is over.
    await navigate(j, () => p.reload());
    await j.expectPath('/login?next=%2Fme');
    await j.step('citizen-session-ended');
    await p.fill('#login', phone.typed);
    await p.fill('#password', temporary);
    assert.equal(await clickButton(j, t.loginButton), 200);
    await j.expectPath('/me/password');
    await j.expectText(t.mustChange);
    await j.step('temporary-password');
    await p.fill('#password', t.newPassword);
    await p.fill('#password_confirmation', t.newPassword);
    assert.equal(await clickButton(j, t.savePassword), 200);
    await j.expectPath('/me?password_changed=1');
    await j.expectText(t.passwordChanged);
    assert.equal(await levelOnMe(j), t.levelStandard);
  });
}

// ------------------------------------------------------------------ keyboard only

/** The console's login, a search (the kind chosen with the arrows) and the confirmation, by keyboard alone. */
export async function keyboardOperator(j) {
  const { t, page } = j;
  const kb = page.keyboard;
  const c = citizen(j.seq);
  const phone = j.phone();
  await createStandardAccount(j.baseUrl, j.outbox, { c, phone, password: t.password, lang: t.lang });
  const op = newOperator(j);
  const auth = await enrol(j, op, { link: await addOperator(j.server) });

  await typeInto(j, '#login', op.login);
  await typeInto(j, '#password', op.password);
  await typeInto(j, '#code', await auth.next());
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/operator');
  await j.step('operator-desk');

  // «Искать по»: the arrow keys move from SNILS to the phone.
  await tabTo(j, '#by-snils');
  await kb.press('ArrowDown');
  assert.ok(await page.isChecked('#by-phone'), 'ArrowDown chooses the search by phone');
  await typeInto(j, '#value', phone.typed);
  await navigate(j, () => kb.press('Enter'));
  assert.equal(await page.locator('#search-results ul.results a').count(), 1, 'one account found');
  await j.step('search-found');
  await tabTo(j, '#search-results ul.results a');
  await navigate(j, () => kb.press('Enter'));
  await j.expectH1(t.cardTitle);

  await tabTo(j, '#confirm-document');
  await kb.press('Space');
  await tabTo(j, '#confirm-person');
  await kb.press('Space');
  assert.ok((await page.isChecked('#confirm-document')) && (await page.isChecked('#confirm-person')), 'Space ticks both');
  await j.step('checklist-ticked');
  await tabTo(j, '#confirm button[type=submit]');
  await navigate(j, () => kb.press('Enter'));
  assert.equal(await text(page.locator('main p.notice')), t.confirmedDone);
  assert.equal(await text(page.locator('#citizen-level')), t.levelConfirmed);
  await j.step('confirmed');

  await tabTo(j, 'header button');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/operator/login?logged_out=1');
}
