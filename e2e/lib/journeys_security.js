// The journeys of an account's own security: «Не удаётся войти?» (access
// recovery by the SMS code, by the e-mail link, and with the passport or
// SNILS of a verified account) and «Безопасность» (the sessions with
// «Завершить», and the history of logins and security events). The
// accounts are made through the JSON API: registration has journeys of its own.
import assert from 'node:assert/strict';
import { apiSession, createAccount, createStandardAccount } from './api.js';
import { citizen } from './citizens.js';
import { VIEWPORTS } from './harness.js';
import {
  clickButton,
  clickLink,
  expectContinuationRefused,
  expectErrorSummaryFocused,
  expectFieldError,
  logIn,
  navigate,
  openEmailLink,
  pressConfirm,
} from './journeys.js';

// ------------------------------------------------------------------ texts

/** What these pages say (crates/web/src/recovery/i18n.rs, password/i18n.rs, security/i18n.rs; app/src/messages.rs). */
const TEXTS = {
  ru: {
    recoverLink: 'Не удаётся войти?',
    recoverTitle: 'Восстановление доступа',
    recoverSend: 'Продолжить',
    recoverConfirm: 'Продолжить',
    errLogin: 'Укажите телефон, почту или СНИЛС',
    codeSent: 'Если учётная запись с такими данными есть, на её телефон отправлен код подтверждения.',
    letterSent: 'Если учётная запись с такими данными есть, на её почту отправлено письмо со ссылкой.',
    validUntil: /^Код или ссылка действуют до \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(МСК\)\.$/,
    factIntro: 'Ваша учётная запись проверена. Чтобы никто не восстановил доступ по одному телефону, укажите серию и номер паспорта из учётной записи.',
    factWrong: /^Данные не совпадают с учётной записью\. Осталось попыток: (\d+)$/,
    factMalformed: 'Серия и номер паспорта — 10 цифр, например: 4510 123456',
    startAgain: 'Начать заново',
    newPasswordTitle: 'Новый пароль',
    mismatch: 'Пароли не совпадают',
    recovered: 'Пароль изменён. Войдите с новым паролем.',
    linkInvalid: 'Ссылка недействительна или устарела',
    recoverySms: /^Код для восстановления доступа: (\d{6})\. /,
    recoveryLetterSubject: 'Восстановление доступа',
    recoveredNotice: /^Доступ к вашей учётной записи восстановлен, пароль изменён\. Завершено сеансов: (\d+)\. Отменено незаконченных запросов на восстановление доступа и смену телефона или почты: (\d+)\./,
    recoveredSubject: 'Пароль изменён: доступ восстановлен',
    // «Безопасность»
    securityLink: 'Безопасность: сеансы и история входов',
    securityTitle: 'Безопасность',
    sessionsTitle: 'Активные сеансы',
    historyTitle: 'История входов и действий',
    factorTitle: 'Вход с подтверждением',
    thisDevice: 'это устройство',
    started: 'Вход',
    lastActive: 'Последнее действие',
    network: 'Сеть',
    end: 'Завершить',
    endAllOthers: 'Завершить все другие сеансы',
    ended: 'Сеанс завершён.',
    evLogin: 'Вход',
    evLoginNewDevice: 'Вход с нового устройства',
    evLoginRefused: 'Неудачная попытка входа: неверный пароль',
    evSessionEnded: 'Сеанс завершён',
    evPasswordChanged: 'Пароль изменён',
    evAccessRecovered: 'Доступ восстановлен, пароль изменён',
    newDeviceSms: (device) => new RegExp(`^Вход в учётную запись с нового устройства: ${device}, `),
    passwordChangedSms: /^Пароль вашей учётной записи изменён /,
    changeLink: 'Сменить пароль',
    errCurrent: 'Неверный текущий пароль',
    unknownDevice: 'неизвестное устройство',
    at: /^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(МСК\)$/,
  },
  en: {
    recoverLink: "Can't log in?",
    recoverTitle: 'Access recovery',
    recoverSend: 'Continue',
    recoverConfirm: 'Continue',
    errLogin: 'Give a phone, an e-mail or a SNILS',
    codeSent: 'If an account with these details exists, a confirmation code was sent to its phone.',
    letterSent: 'If an account with these details exists, a letter with a link was sent to its e-mail.',
    validUntil: /^The code or link is valid until \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(Moscow time\)\.$/,
    factIntro: 'Your account is verified. So that nobody recovers it with a phone alone, give the passport series and number of the account.',
    factWrong: /^The details do not match the account\. Attempts left: (\d+)$/,
    factMalformed: 'The passport series and number are 10 digits, for example: 4510 123456',
    startAgain: 'Start again',
    newPasswordTitle: 'New password',
    mismatch: 'The passwords do not match',
    recovered: 'The password is changed. Log in with the new password.',
    linkInvalid: 'The link is not valid or has expired',
    recoverySms: /^Access recovery code: (\d{6})\. /,
    recoveryLetterSubject: 'Access recovery',
    recoveredNotice: /^Access to your account was recovered and the password changed\. Sessions ended: (\d+)\. Unfinished requests to recover access or change the phone or e-mail cancelled: (\d+)\./,
    recoveredSubject: 'Password changed: access recovered',
    securityLink: 'Security: sessions and login history',
    securityTitle: 'Security',
    sessionsTitle: 'Active sessions',
    historyTitle: 'Logins and events',
    factorTitle: 'Two-step login',
    thisDevice: 'this device',
    started: 'Logged in',
    lastActive: 'Last active',
    network: 'Network',
    end: 'End',
    endAllOthers: 'End all other sessions',
    ended: 'The session has ended.',
    evLogin: 'Login',
    evLoginNewDevice: 'Login from a new device',
    evLoginRefused: 'Failed login: wrong password',
    evSessionEnded: 'Session ended',
    evPasswordChanged: 'Password changed',
    evAccessRecovered: 'Access recovered, password changed',
    newDeviceSms: (device) => new RegExp(`^Your account was logged in to from a new device: ${device}, `),
    passwordChangedSms: /^The password of your account was changed /,
    changeLink: 'Change password',
    errCurrent: 'Wrong current password',
    unknownDevice: 'unknown device',
    at: /^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(Moscow time\)$/,
  },
};

// ------------------------------------------------------------------ helpers

const text = async (locator) => (await locator.innerText()).trim();

/** The page as a person reads it, less what differs from one moment or person to the next. */
const gist = (s) => s.replace(/\d/g, '0').replace(/\s+/g, ' ').trim();

/** The 6-digit code of the newest unread recovery SMS to `e164`. */
async function recoveryCode(j, e164) {
  const s = TEXTS[j.cfg.lang];
  const sms = await j.outbox.waitFor(e164, s.recoverySms, { channel: 'sms' });
  return sms.body.match(s.recoverySms)[1];
}

/** A code that is not `code`. */
const wrongCode = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** /login → «Не удаётся войти?» → /recover. */
async function openRecovery(j, { stepName } = {}) {
  const s = TEXTS[j.cfg.lang];
  await j.goto('/login');
  await j.expectH1(j.t.loginTitle);
  await clickLink(j, s.recoverLink);
  await j.expectPath('/recover');
  await j.expectLang();
  await j.expectH1(s.recoverTitle);
  assert.equal(await j.page.inputValue('#login'), '', 'the login starts empty');
  if (stepName) await j.step(stepName);
}

/** The login typed on /recover and sent; the status of the page after «Продолжить». */
async function startRecovery(j, login) {
  const s = TEXTS[j.cfg.lang];
  await j.page.fill('#login', login);
  return clickButton(j, s.recoverSend);
}

/** What the confirmation page says, for comparing a known login with an unknown one. */
async function confirmPageGist(j) {
  // A running countdown's words change with the seconds (секунд/секунды).
  const countdown = j.page.locator('main .countdown');
  const ticking = (await countdown.count()) ? await text(countdown) : '';
  return {
    path: new URL(j.page.url()).pathname,
    h1: await j.h1(),
    main: gist((await j.mainText()).replace(ticking, '')),
    fields: await j.page.locator('main input:not([type=hidden])').evaluateAll((els) => els.map((e) => e.id)),
  };
}

/** The code page of the SMS channel: the notice, until when, the code field. */
async function expectCodePage(j) {
  const s = TEXTS[j.cfg.lang];
  await j.expectPath('/recover/confirm');
  await j.expectH1(s.recoverTitle);
  assert.equal(await text(j.page.locator('main p[role=status]')), s.codeSent);
  // The code's life, as every code page shows it: a countdown with scripts on.
  const countdown = await text(j.page.locator('main .countdown'));
  assert.match(countdown, j.cfg.js ? j.t.codeValidSeconds : s.validUntil, 'until when the code works');
  assert.equal(await j.page.locator('main form.resend').count(), 1, 'a new code can be asked for');
  assert.equal(await j.page.locator('#code').count(), 1, 'a code field');
  assert.equal(await j.page.locator('#passport_series_number').count(), 0, 'no fact asked yet');
}

/** The new password page: a mismatch first (named), then `password` twice. */
async function setNewPassword(j, password, { mismatch = true } = {}) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  await j.expectPath('/recover/password');
  await j.expectH1(s.newPasswordTitle);
  await j.step('new-password');
  if (mismatch) {
    await page.fill('#password', password);
    await page.fill('#password_confirmation', `${password}!`);
    assert.equal(await clickButton(j, t.save), 422, 'two different passwords are refused');
    await j.expectPath('/recover/password');
    await expectFieldError(j, 'password_confirmation', s.mismatch);
    assert.equal(await page.locator('#password-error').count(), 0, 'the password itself is fine');
    await expectErrorSummaryFocused(j);
    await j.step('new-password-mismatch');
  }
  await page.fill('#password', password);
  if (j.cfg.js) await page.locator('#strength').filter({ hasText: t.strength }).waitFor();
  await page.fill('#password_confirmation', password);
  assert.equal(await clickButton(j, t.save), 200);
  await j.expectPath('/login?recovered=1');
  await j.expectText(s.recovered, 'main p.notice[role=status]');
  assert.equal(
    (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-recovery')?.value || '',
    '',
    'the recovery cookie is gone',
  );
}

/** After recovery: the old password is refused, the new one logs in. */
async function oldRefusedNewWorks(j, login, oldPassword, newPassword) {
  const { t, page } = j;
  // The login page after «Сохранить» had its step («recovered»).
  await page.fill('#login', login);
  await page.fill('#password', oldPassword);
  assert.equal(await clickButton(j, t.loginButton), 401, 'the old password is refused');
  await j.expectText(t.badCredentials, '#error-summary');
  await j.step('old-password-refused');
  await page.fill('#password', newPassword);
  assert.equal(await clickButton(j, t.loginButton), 200, 'the new password logs in');
  await j.expectPath('/me');
  await j.expectH1(t.meTitle);
}

/** Logs in at /login?next=/me without a step of its own (the login page is another journey's). */
async function quietLogIn(j, login, password) {
  await j.goto('/login?next=%2Fme');
  await j.page.fill('#login', login);
  await j.page.fill('#password', password);
  assert.equal(await clickButton(j, j.t.loginButton), 200, 'logged in');
  await j.expectPath('/me');
}

/** The session of this browser is over: «Мои данные» asks to log in. */
async function expectLoggedOut(j, stepName) {
  await navigate(j, () => j.goto('/me'));
  await j.expectPath('/login?next=%2Fme');
  await j.expectH1(j.t.loginTitle);
  await j.step(stepName);
}

// ------------------------------------------------------------------ recovery journeys

/**
 * A simplified account registered by phone, logged in in a second browser:
 * /login → «Не удаётся войти?» → an empty login (named) → an unknown phone
 * (the very page a known one gets, and a wrong code answered alike) →
 * «Начать заново» → the phone → a wrong code («Осталось попыток: 2») → the
 * code from the SMS → two different passwords (named) → the new password →
 * «Пароль изменён. Войдите с новым паролем.» → the old password refused, the
 * new one logs in → the second browser's session is over → the notice of
 * recovered access in the outbox.
 */
export async function recoverByPhone(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const phone = j.phone();
  const stranger = j.phone(); // no account has it
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  // The person is still logged in on another device.
  const elsewhere = await j.person();
  await j.as(elsewhere, () => quietLogIn(j, phone.typed, t.password));

  await openRecovery(j, { stepName: 'recover' });
  // Nothing typed: the field says what it wants.
  assert.equal(await clickButton(j, s.recoverSend), 422);
  await j.expectPath('/recover');
  await expectFieldError(j, 'login', s.errLogin);
  await expectErrorSummaryFocused(j);
  await j.step('recover-empty');

  // A phone no account has: the same page as for a known one, and a wrong code alike.
  assert.equal(await startRecovery(j, stranger.typed), 200);
  await expectCodePage(j);
  const unknown = await confirmPageGist(j);
  await j.step('recover-code-unknown');
  await page.fill('#code', '123456');
  assert.equal(await clickButton(j, s.recoverConfirm), 422);
  const unknownWrong = await text(page.locator('#code-error'));
  assert.equal(unknownWrong.match(t.codeWrong)?.[1], '2', `a wrong code for an unknown login: «${unknownWrong}»`);
  await clickLink(j, s.startAgain);
  await j.expectPath('/recover');

  assert.equal(await startRecovery(j, phone.typed), 200);
  await expectCodePage(j);
  assert.deepEqual(await confirmPageGist(j), unknown, 'a known login gets the very page an unknown one got');
  await j.step('recover-code');
  const code = await recoveryCode(j, phone.e164);

  // A wrong code first: named, with the attempts left — the answer an unknown login got.
  await page.fill('#code', wrongCode(code));
  assert.equal(await clickButton(j, s.recoverConfirm), 422);
  await j.expectPath('/recover/confirm');
  const wrong = await expectFieldError(j, 'code', t.codeWrong);
  assert.equal(wrong.trim(), unknownWrong, 'the same answer as for an unknown login');
  await expectErrorSummaryFocused(j);
  await j.step('recover-wrong-code');

  await page.fill('#code', code);
  assert.equal(await clickButton(j, s.recoverConfirm), 200);
  await setNewPassword(j, t.newPassword);
  await j.step('recovered');

  await oldRefusedNewWorks(j, phone.typed, t.password, t.newPassword);
  await j.step('me-new-password');

  // The other device was logged out with the new password.
  await j.as(elsewhere, () => expectLoggedOut(j, 'elsewhere-logged-out'));
  // The person is told, on the phone.
  const notice = await j.outbox.waitFor(phone.e164, s.recoveredNotice, { channel: 'sms' });
  assert.equal(notice.body.match(s.recoveredNotice)[1], '1', `one session ended, the other browser's: ${notice.body}`);
  assert.ok(notice.body.includes(`${j.baseUrl}/recover`), `the notice says how to recover again: ${notice.body}`);
}

/**
 * A simplified account registered by e-mail: «Не удаётся войти?» → an
 * unknown address (the same page as a known one) → the address → «…письмо со
 * ссылкой» (no code field) → the link in the letter → the new password → log
 * in by e-mail → the link does not work twice → the notice in the mailbox.
 */
export async function recoverByEmail(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const email = j.email();
  const stranger = j.email();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, email, password: t.password, lang: t.lang });

  await openRecovery(j, { stepName: 'recover' });
  assert.equal(await startRecovery(j, stranger), 200);
  await j.expectPath('/recover/confirm');
  const unknown = await confirmPageGist(j);
  await j.step('recover-letter-unknown');
  await clickLink(j, s.startAgain);

  assert.equal(await startRecovery(j, email.toUpperCase()), 200, 'an address in any case');
  await j.expectPath('/recover/confirm');
  await j.expectH1(s.recoverTitle);
  assert.equal(await text(page.locator('main p[role=status]')), s.letterSent);
  assert.match(await text(page.locator('main p.note').first()), s.validUntil);
  assert.equal(await page.locator('main input:not([type=hidden])').count(), 0, 'nothing to type: the letter has a link');
  assert.equal(await page.locator('main form.resend').count(), 1, 'the letter can be sent again');
  assert.deepEqual(await confirmPageGist(j), unknown, 'a known address gets the very page an unknown one got');
  await j.step('recover-letter');

  const mail = await j.outbox.waitFor(email, /\/recover\/confirm-email\?token=/, { channel: 'email' });
  assert.equal(mail.subject, s.recoveryLetterSubject);
  const url = mail.body.match(/https?:\/\/\S+\/recover\/confirm-email\?token=[A-Za-z0-9_\-%.~]+/)?.[0];
  assert.ok(url?.startsWith(j.baseUrl), `the link leads to the portal: ${mail.body}`);
  // The link's page confirms nothing: this browser still waits for the letter.
  await openEmailLink(j, url, { lead: t.linkConfirmRecovery, stepName: 'recover-link' });
  assert.equal(await navigate(j, () => j.goto('/recover/password')), 200);
  await j.expectPath('/recover/confirm');
  assert.equal(await text(page.locator('main p[role=status]')), s.letterSent);
  // «Подтвердить» on the link's page: this browser sets the new password.
  await openEmailLink(j, url, { lead: t.linkConfirmRecovery });
  assert.equal(await pressConfirm(j), 200);
  await setNewPassword(j, t.newPassword, { mismatch: false });
  await j.step('recovered');
  await oldRefusedNewWorks(j, email, t.password, t.newPassword);
  await j.expectText(email);

  // The link works once.
  assert.equal(await navigate(j, () => page.goto(url)), 404, 'a used recovery link');
  await j.expectText(s.linkInvalid);
  await j.step('link-used');
  const notice = await j.outbox.waitFor(email, s.recoveredNotice, { channel: 'email' });
  assert.equal(notice.subject, s.recoveredSubject);
}

/**
 * Access recovery by e-mail, the letter read in another browser. This
 * browser starts the recovery; a stranger's browser opens the link and
 * leaves (nothing changes: this browser still waits for the letter, the old
 * password still logs in, here through the API); the browser of the
 * person's mailbox presses «Подтвердить» and is taken to «Новый пароль»;
 * this browser, which started but did not press, gets 403 «Продолжить можно
 * только в том браузере…». The new password is set in the browser that
 * pressed, and logs in; the stranger's page, pressed after that, finds the
 * link used (404).
 */
export async function recoverByEmailElsewhere(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const email = j.email();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, email, password: t.password, lang: t.lang });

  await openRecovery(j);
  assert.equal(await startRecovery(j, email), 200);
  await j.expectPath('/recover/confirm');
  assert.equal(await text(page.locator('main p[role=status]')), s.letterSent);
  await j.step('recover-letter');
  const mail = await j.outbox.waitFor(email, /\/recover\/confirm-email\?token=/, { channel: 'email' });
  const url = mail.body.match(/https?:\/\/\S+\/recover\/confirm-email\?token=[A-Za-z0-9_\-%.~]+/)?.[0];
  assert.ok(url, `a link in the letter: ${mail.body}`);

  // A stranger's browser opens the link and leaves without pressing.
  const stranger = await j.person();
  await j.as(stranger, () => openEmailLink(j, url, { lead: t.linkConfirmRecovery, stepName: 'link-opened-elsewhere' }));
  // Nothing changed: here the new password is not reachable yet …
  assert.equal(await navigate(j, () => j.goto('/recover/password')), 200);
  await j.expectPath('/recover/confirm');
  assert.equal(await text(page.locator('main p[role=status]')), s.letterSent);
  await j.step('still-waiting');
  // … and the old password still logs in (an app's session, through the API).
  await apiSession(j.baseUrl, email, t.password, t.lang);

  // The person presses «Подтвердить» in the browser of their mailbox.
  const mailbox = await j.person();
  await j.as(mailbox, async () => {
    await openEmailLink(j, url, { lead: t.linkConfirmRecovery });
    assert.equal(await pressConfirm(j), 200);
    await j.expectPath('/recover/password');
    await j.expectH1(s.newPasswordTitle);
  });
  // The browser that started the recovery did not press: it may not set the password.
  await expectContinuationRefused(j, '/recover/password', 'new-password-refused-here');

  await j.as(mailbox, async () => {
    await setNewPassword(j, t.newPassword, { mismatch: false });
    await j.step('recovered');
    await oldRefusedNewWorks(j, email, t.password, t.newPassword);
  });
  // The page the stranger left open, pressed now: the link is used.
  await j.as(stranger, async () => {
    await j.expectPath(new URL(url).pathname + new URL(url).search);
    assert.equal(await pressConfirm(j), 404, 'a used recovery link, pressed');
    await j.expectText(s.linkInvalid);
    await j.step('link-pressed-after-use');
  });
  // The browser that started it has nothing left to continue.
  assert.equal(await navigate(j, () => j.goto('/recover/password')), 404, 'the recovery is over');
  assert.equal(await page.locator('main #password').count(), 0, 'no password form');
  const notice = await j.outbox.waitFor(email, s.recoveredNotice, { channel: 'email' });
  assert.equal(notice.body.match(s.recoveredNotice)[1], '1', `the app's session ended: ${notice.body}`);
}

/**
 * A standard account (verified personal data, made through the API): the
 * phone → the code → the page asks for the passport (or the SNILS) → a
 * passport of someone else: «Данные не совпадают с учётной записью…» →
 * the SNILS of the account → the new password → the level stays
 * «стандартная» → once more: two typos in the passport (named), then the
 * right passport passes (a typo is no wrong passport and takes no try).
 */
export async function recoverStandard(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const c = citizen(j.seq);
  const phone = j.phone();
  await createStandardAccount(j.baseUrl, j.outbox, { c, phone, password: t.password, lang: t.lang });

  await openRecovery(j);
  assert.equal(await startRecovery(j, phone.e164), 200);
  await expectCodePage(j);
  await j.step('recover-code');
  await page.fill('#code', await recoveryCode(j, phone.e164));
  // The right code: the account is verified, so one more fact is asked — no error yet.
  assert.equal(await clickButton(j, s.recoverConfirm), 200);
  await j.expectPath('/recover/confirm');
  await j.expectH1(s.recoverTitle);
  await j.expectText(s.factIntro);
  assert.equal(await page.locator('#error-summary').count(), 0, 'asking is no error');
  assert.equal(await page.locator('#code').count(), 0, 'the code is not asked again');
  assert.equal(await page.inputValue('#passport_series_number'), '');
  assert.equal(await page.locator('#snils').count(), 1, 'after a phone the SNILS may stand for the passport');
  await j.step('recover-fact', { doc: '31-recover-fact' });

  // Someone else's passport: refused, named on the field.
  const otherPassport = `${c.passport.slice(0, 5)}${String((Number(c.passport.slice(5)) + 1) % 1_000_000).padStart(6, '0')}`;
  await page.fill('#passport_series_number', otherPassport);
  assert.equal(await clickButton(j, s.recoverConfirm), 422);
  await j.expectPath('/recover/confirm');
  const refused = await expectFieldError(j, 'passport_series_number', s.factWrong);
  // Three tries in all; only mistakes cost one: the right code none, this passport one.
  assert.equal(refused.match(s.factWrong)[1], '2', `two tries left: «${refused}»`);
  assert.equal(await page.inputValue('#passport_series_number'), otherPassport, 'the entry is kept');
  await expectErrorSummaryFocused(j);
  await j.step('recover-fact-wrong');

  // The SNILS of the account instead.
  await page.fill('#passport_series_number', '');
  await page.fill('#snils', c.snils);
  assert.equal(await clickButton(j, s.recoverConfirm), 200);
  await setNewPassword(j, t.newPassword, { mismatch: false });
  await j.step('recovered');
  await oldRefusedNewWorks(j, phone.typed, t.password, t.newPassword);
  await j.expectText(t.levelStandard, 'main section[aria-labelledby="general"] .level');
  await j.step('me-standard');
  await j.outbox.waitFor(phone.e164, s.recoveredNotice, { channel: 'sms' });

  // Once more, with typos in the passport: a malformed number is named and,
  // being no wrong passport, takes no try (README: «each wrong one taking a try»).
  await openRecovery(j);
  assert.equal(await startRecovery(j, phone.typed), 200);
  await page.fill('#code', await recoveryCode(j, phone.e164));
  assert.equal(await clickButton(j, s.recoverConfirm), 200);
  await j.expectText(s.factIntro);
  for (const typo of ['4600 12', '46OO 300000']) {
    await page.fill('#passport_series_number', typo);
    assert.equal(await clickButton(j, s.recoverConfirm), 422);
    await expectFieldError(j, 'passport_series_number', s.factMalformed);
  }
  await j.step('recover-fact-typo');
  await page.fill('#passport_series_number', c.passport);
  const status = await clickButton(j, s.recoverConfirm);
  assert.equal(new URL(page.url()).pathname, '/recover/password', `status ${status}: ${await text(page.locator('main'))}`);
  await j.step('new-password-after-typos');
}

// ------------------------------------------------------------------ «Безопасность»

/** Other browsers than the one the journey runs in, with user agents of their own. */
const USER_AGENTS = {
  windows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  android: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
};

/** «Chrome, Windows»: as uslugi_app::security::describe_device names a user agent. */
function describeDevice(ua, lang) {
  if (!ua || !ua.trim()) return TEXTS[lang].unknownDevice;
  const browser = [['YaBrowser', 'Яндекс Браузер'], ['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Chromium/', 'Chromium'], ['Safari/', 'Safari']]
    .find(([needle]) => ua.includes(needle))?.[1];
  const system = [['Android', 'Android'], ['iPhone', 'iOS'], ['iPad', 'iPadOS'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'], ['CrOS', 'ChromeOS'], ['Linux', 'Linux']]
    .find(([needle]) => ua.includes(needle))?.[1];
  if (browser && system) return `${browser}, ${system}`;
  return browser || system || ua.slice(0, 40);
}

/** Another browser of the same person, in the journey's configuration, with its own user agent. */
async function device(j, userAgent) {
  const context = await j.browser.newContext({
    ...VIEWPORTS[j.cfg.viewport],
    deviceScaleFactor: 1,
    javaScriptEnabled: j.cfg.js,
    locale: j.cfg.lang === 'en' ? 'en-GB' : 'ru-RU',
    timezoneId: 'Europe/Moscow',
    baseURL: j.baseUrl,
    reducedMotion: 'reduce',
    userAgent,
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const page = await context.newPage();
  j.watch(page);
  const other = { context, page };
  j.others.push(other);
  return other;
}

/** The sessions on «Безопасность»: [{ device, current, text, endable }]. */
async function sessionsShown(j) {
  const items = j.page.locator('#sessions li.session');
  const out = [];
  for (let i = 0; i < (await items.count()); i++) {
    const li = items.nth(i);
    out.push({
      device: await text(li.locator('strong')),
      current: (await li.getAttribute('class')).split(/\s+/).includes('current'),
      text: await text(li),
      endable: (await li.locator('button').count()) === 1,
    });
  }
  return out;
}

/** The history's lines, newest first: [{ at, what }]. */
async function historyShown(j) {
  const lines = await j.page.locator('#history li').allInnerTexts();
  return lines.map((l) => {
    const i = l.indexOf(' — ');
    return { at: l.slice(0, i).trim(), what: l.slice(i + 3).trim() };
  });
}

/** Checks what a session's line says: device, «это устройство» for this one, both times, the network. */
function expectSessionLine(j, session, { device: name, current }) {
  const s = TEXTS[j.cfg.lang];
  assert.equal(session.device, name, `the device: ${session.text}`);
  assert.equal(session.current, current, `${name} is ${current ? '' : 'not '}the current session`);
  assert.equal(session.text.includes(`— ${s.thisDevice}`), current, `«${s.thisDevice}» only on the current one: ${session.text}`);
  const when = s.at.source.slice(1, -1);
  assert.match(session.text, new RegExp(`${s.started}: ${when} · ${s.lastActive}: ${when} · ${s.network}: 127\\.0\\.0\\.0/24`), `times and network: ${session.text}`);
  assert.equal(session.endable, !current, `«${s.end}» on ${current ? 'no current' : 'every other'} session`);
}

/** Opens «Безопасность» from «Мои данные». */
async function openSecurity(j, stepName) {
  const s = TEXTS[j.cfg.lang];
  await navigate(j, () => j.goto('/me'));
  await clickLink(j, s.securityLink);
  await j.expectPath('/me/security');
  await j.expectH1(s.securityTitle);
  if (stepName) await j.step(stepName);
}

/**
 * Logged in from two browsers (Chrome on Linux here, Firefox on Windows
 * there): «Безопасность» lists both (device, times, network; this one
 * marked «это устройство») → «Завершить» the other → that browser is
 * logged out → two more logins (Firefox, Chrome on Android) → «Завершить все
 * другие сеансы» → both logged out → the history: the logins (the new
 * devices named, and told by SMS), the sessions ended → a wrong current
 * password at «Сменить пароль» (named) → a new password with «Завершить
 * сеансы на других устройствах» → the other browser is logged out, the
 * history's newest line is «Пароль изменён», the SMS says so.
 */
export async function securityPage(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const lang = j.cfg.lang;
  const phone = j.phone();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  const here = describeDevice(await page.evaluate(() => navigator.userAgent), lang);
  const windows = describeDevice(USER_AGENTS.windows, lang);
  const android = describeDevice(USER_AGENTS.android, lang);
  assert.deepEqual(new Set([here, windows, android]).size, 3, `three devices told apart: ${here}, ${windows}, ${android}`);

  // Here, then on a Windows computer.
  await j.goto('/login?next=%2Fme');
  await logIn(j, phone.typed, { stepName: 'login' });
  await j.expectPath('/me');
  const pc = await device(j, USER_AGENTS.windows);
  await j.as(pc, () => quietLogIn(j, phone.typed, t.password));
  await j.outbox.waitFor(phone.e164, s.newDeviceSms(windows), { channel: 'sms' });

  await openSecurity(j);
  assert.deepEqual(
    (await page.locator('main h2').allInnerTexts()).map((h) => h.trim()),
    [s.sessionsTitle, s.factorTitle, s.historyTitle],
    'sessions, the second factor, then the history',
  );
  let sessions = await sessionsShown(j);
  assert.equal(sessions.length, 2, `two sessions: ${JSON.stringify(sessions)}`);
  expectSessionLine(j, sessions.find((x) => x.current) || sessions[0], { device: here, current: true });
  expectSessionLine(j, sessions.find((x) => !x.current) || sessions[1], { device: windows, current: false });
  const end = page.locator('#sessions li.session:not(.current) button');
  assert.match(await end.getAttribute('aria-label'), new RegExp(`^${s.end}: ${windows}, `), 'the button says which session it ends');
  assert.equal(await text(end), s.end);
  assert.equal(await page.getByRole('button', { name: s.endAllOthers, exact: true }).count(), 1);
  let history = await historyShown(j);
  for (const line of history) assert.match(line.at, s.at, `when: ${JSON.stringify(line)}`);
  assert.deepEqual(history.slice(0, 2).map((l) => l.what), [s.evLoginNewDevice, s.evLogin], 'the logins, newest first: Windows (new), here');
  await j.step('security-two-sessions');

  // «Завершить» the Windows session.
  assert.equal(await navigate(j, () => end.click()), 200);
  await j.expectPath('/me/security?ended=1');
  assert.equal(await text(page.locator('main p.notice[role=status]')), s.ended);
  sessions = await sessionsShown(j);
  assert.equal(sessions.length, 1, `one session left: ${JSON.stringify(sessions)}`);
  expectSessionLine(j, sessions[0], { device: here, current: true });
  assert.equal(await page.getByRole('button', { name: s.endAllOthers, exact: true }).count(), 0, 'nothing else to end');
  assert.equal((await historyShown(j))[0].what, s.evSessionEnded);
  await j.step('session-ended');
  await j.as(pc, () => expectLoggedOut(j, 'pc-logged-out'));

  // Back on the computer, and on an Android phone: «Завершить все другие сеансы».
  const mobile = await device(j, USER_AGENTS.android);
  await j.as(pc, () => quietLogIn(j, phone.typed, t.password));
  await j.as(mobile, () => quietLogIn(j, phone.typed, t.password));
  await j.outbox.waitFor(phone.e164, s.newDeviceSms(android), { channel: 'sms' });
  await navigate(j, () => page.reload());
  sessions = await sessionsShown(j);
  assert.deepEqual(sessions.map((x) => x.device).sort(), [here, windows, android].sort(), `three sessions: ${JSON.stringify(sessions)}`);
  assert.equal(sessions.filter((x) => x.current).length, 1, 'one of them current');
  for (const x of sessions) expectSessionLine(j, x, { device: x.device, current: x.device === here });
  await j.step('security-three-sessions');
  assert.equal(await clickButton(j, s.endAllOthers), 200);
  await j.expectPath('/me/security?ended=1');
  sessions = await sessionsShown(j);
  assert.deepEqual(sessions.map((x) => [x.device, x.current]), [[here, true]], 'only this session is left');
  history = await historyShown(j);
  assert.deepEqual(
    history.slice(0, 4).map((l) => l.what),
    [s.evSessionEnded, s.evLoginNewDevice, s.evLogin, s.evSessionEnded],
    'newest first: all others ended, the Android login (new), the Windows login again (known), the one ended',
  );
  assert.equal(history.filter((l) => l.what === s.evLogin || l.what === s.evLoginNewDevice).length, 4, 'every login is in the history');
  await j.step('others-ended');
  await j.as(pc, () => expectLoggedOut(j, 'pc-logged-out-again'));
  await j.as(mobile, () => expectLoggedOut(j, 'mobile-logged-out'));

  // «Сменить пароль» with «Завершить сеансы на других устройствах».
  await j.as(pc, () => quietLogIn(j, phone.typed, t.password));
  await navigate(j, () => page.reload());
  assert.equal((await sessionsShown(j)).length, 2);
  await clickLink(j, s.changeLink);
  await j.expectPath('/me/password');
  await j.expectH1(t.passwordTitle);
  await page.fill('#current_password', t.newPassword);
  await page.fill('#password', t.newPassword);
  await page.fill('#password_confirmation', t.newPassword);
  await page.check('#end_other_sessions');
  assert.equal(await clickButton(j, t.savePassword), 422);
  await expectFieldError(j, 'current_password', s.errCurrent);
  await expectErrorSummaryFocused(j);
  await j.step('password-wrong-current');
  await page.fill('#current_password', t.password);
  await page.fill('#password', t.newPassword);
  await page.fill('#password_confirmation', t.newPassword);
  await page.check('#end_other_sessions');
  assert.equal(await clickButton(j, t.savePassword), 200);
  await j.expectPath('/me?password_changed=1');
  await j.expectText(t.passwordChanged);
  await j.outbox.waitFor(phone.e164, s.passwordChangedSms, { channel: 'sms' });
  await j.as(pc, () => expectLoggedOut(j, 'pc-logged-out-by-password'));

  await openSecurity(j);
  sessions = await sessionsShown(j);
  assert.deepEqual(sessions.map((x) => [x.device, x.current]), [[here, true]], 'the password change kept this session only');
  history = await historyShown(j);
  assert.equal(history[0].what, s.evPasswordChanged, `the newest line: ${JSON.stringify(history.slice(0, 3))}`);
  assert.equal(history.filter((l) => l.what === s.evLogin || l.what === s.evLoginNewDevice).length, 5, 'five logins in all');
  await j.step('security-after-password');
}
