// The journeys of an account's own settings built after «Безопасность»:
// «Вход с подтверждением» (the citizen's second factor: an authenticator
// app or SMS codes, with ten backup codes) and «Изменить» by the phone or
// the e-mail of «Мои данные». The accounts are made through the JSON API:
// registration has journeys of its own.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createAccount } from './api.js';
import {
  clickButton,
  clickLink,
  expectErrorSummaryFocused,
  expectFieldError,
  logIn,
  logOut,
  navigate,
  openEmailLink,
  pressConfirm,
  tabTo,
  typeInto,
} from './journeys.js';
import { Authenticator } from './operator.js';

// ------------------------------------------------------------------ texts

/**
 * What these pages say (crates/web/src/second_factor/i18n.rs,
 * contacts/i18n.rs, i18n/; the SMS and letters of crates/app/src/messages.rs).
 */
const TEXTS = {
  ru: {
    securityLink: 'Безопасность: сеансы и история входов',
    securityTitle: 'Безопасность',
    // «Вход с подтверждением»
    factorTitle: 'Вход с подтверждением',
    factorOff: 'Выключен.',
    onApp: 'Включён: код берётся из приложения-аутентификатора.',
    onSms: (masked) => `Включён: код приходит в SMS на номер ${masked}.`,
    codesLeft: (n) => `Неиспользованных резервных кодов: ${n}.`,
    turnOn: 'Включить',
    methodApp: 'Код из приложения-аутентификатора',
    methodSms: (masked) => `Код в SMS на номер ${masked}`,
    errPassword: 'Неверный пароль',
    // «Скачать мои данные», «Удалить учётную запись» (profile/i18n.rs, deletion/i18n.rs, messages.rs)
    pdfLink: 'Скачать мои данные (PDF)',
    deleteLink: 'Удалить учётную запись',
    deleteTitle: 'Удаление учётной записи',
    deleteButton: 'Удалить учётную запись',
    scheduledTitle: 'Учётная запись будет удалена',
    scheduledText: /^Учётная запись будет удалена \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(МСК\)\. Все сеансы завершены\.$/,
    deletionNotice: /^Вы попросили удалить учётную запись\. Она будет удалена /,
    cancelledNotice: /^Вы вошли в учётную запись \(.*\), и её удаление отменено\./,
    evDeletionAsked: 'Запрошено удаление учётной записи',
    evDeletionCancelled: 'Удаление учётной записи отменено входом',
    enrolTitle: 'Подключение входа с подтверждением',
    enrolQrAlt: 'QR-код для приложения-аутентификатора',
    enrolAppCode: 'Код из приложения',
    enrolSmsCode: 'Код подтверждения',
    codeSentTo: (masked) => `Код отправлен на номер ${masked}.`,
    confirm: 'Подтвердить',
    errWrongLeft: /^Код не подходит\. Осталось попыток: (\d+)$/,
    errWrong: 'Код не подходит',
    codesTitle: 'Резервные коды',
    codesDone: 'Я сохранил коды',
    turnedOn: 'Вход с подтверждением включён.',
    turnedOff: 'Вход с подтверждением отключён.',
    onAppNotice: /^В вашей учётной записи включён вход с подтверждением кодом из приложения \(/,
    onSmsNotice: /^В вашей учётной записи включён вход с подтверждением кодом из SMS \(/,
    offNotice: /^В вашей учётной записи отключён вход с подтверждением \(/,
    enrolSms: /^Код для изменения входа с подтверждением: (\d{6})\. /,
    loginTitle: 'Подтверждение входа',
    loginIntroApp: 'Пароль верный. Введите 6 цифр из приложения-аутентификатора.',
    loginIntroSms: (masked) => `Пароль верный. Введите код из SMS, отправленного на номер ${masked}.`,
    loginSms: /^Код для входа: (\d{6})\. /,
    loginSubmit: 'Войти',
    turnOffTitle: 'Отключить вход с подтверждением',
    turnOff: 'Отключить',
    sendSmsCode: 'Получить код в SMS',
    errCode: 'Введите код подтверждения',
    evEnabled: 'Включён вход с подтверждением',
    evDisabled: 'Отключён вход с подтверждением',
    evAsked: 'Пароль верный, запрошен код подтверждения',
    evWrong: 'Неверный код подтверждения при входе',
    // «Изменить» by the phone or the e-mail
    change: 'Изменить',
    add: 'Добавить',
    phoneTitle: 'Номер мобильного телефона',
    emailTitle: 'Электронная почта',
    sendCode: 'Получить код',
    sendLetter: 'Отправить письмо',
    errCurrent: 'Неверный текущий пароль',
    confirmTitle: 'Подтверждение',
    contactCodeSent: (typed) => `Код отправлен на номер ${typed}.`,
    letterSent: (email) => `Письмо со ссылкой отправлено на ${email}. Перейдите по ссылке из письма.`,
    contactCodeWrong: /^Неверный код\. Осталось попыток: (\d+)$/,
    contactSms: /^Код для привязки номера к учётной записи: (\d{6})\. /,
    phoneChanged: 'Номер телефона изменён. Теперь входите с новым номером.',
    phoneChangedNotice: (last2) => new RegExp(`^Номер телефона вашей учётной записи изменён на \\+7 \\*\\*\\* \\*\\*\\*-\\*\\*-${last2}\\. `),
    letterSubject: 'Подтверждение новой электронной почты',
    emailChangedPage: 'Адрес электронной почты изменён.',
    changedLogIn: 'Войдите, чтобы продолжить.',
    emailChanged: 'Адрес электронной почты изменён.',
    emailAddedNotice: (masked) => new RegExp(`^К вашей учётной записи добавлена электронная почта ${masked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\. `),
    linkInvalidTitle: 'Ссылка недействительна',
    evPhoneChanged: 'Изменён номер телефона',
    evEmailChanged: 'Изменена электронная почта',
  },
  en: {
    securityLink: 'Security: sessions and login history',
    securityTitle: 'Security',
    factorTitle: 'Two-step login',
    factorOff: 'Off.',
    onApp: 'On: the code comes from an authenticator app.',
    onSms: (masked) => `On: the code comes by SMS to ${masked}.`,
    codesLeft: (n) => `Unused backup codes: ${n}.`,
    turnOn: 'Turn on',
    methodApp: 'A code from an authenticator app',
    methodSms: (masked) => `A code by SMS to ${masked}`,
    errPassword: 'Wrong password',
    pdfLink: 'Download my data (PDF)',
    deleteLink: 'Delete account',
    deleteTitle: 'Deleting the account',
    deleteButton: 'Delete account',
    scheduledTitle: 'The account will be deleted',
    scheduledText: /^The account will be deleted on \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} \(Moscow time\)\. Every session has ended\.$/,
    deletionNotice: /^You asked to delete your account\. It will be deleted on /,
    cancelledNotice: /^You logged in \(.*\), so the deletion of your account is cancelled\./,
    evDeletionAsked: 'Deletion of the account asked',
    evDeletionCancelled: 'Deletion of the account cancelled by a login',
    enrolTitle: 'Setting up two-step login',
    enrolQrAlt: 'QR code for the authenticator app',
    enrolAppCode: 'Code from the app',
    enrolSmsCode: 'Confirmation code',
    codeSentTo: (masked) => `A code was sent to ${masked}.`,
    confirm: 'Confirm',
    errWrongLeft: /^The code does not match\. Attempts left: (\d+)$/,
    errWrong: 'The code does not match',
    codesTitle: 'Backup codes',
    codesDone: 'I have saved the codes',
    turnedOn: 'Two-step login is on.',
    turnedOff: 'Two-step login is off.',
    onAppNotice: /^In your account two-step login with an authenticator app was turned on \(/,
    onSmsNotice: /^In your account two-step login with SMS codes was turned on \(/,
    offNotice: /^In your account two-step login was turned off \(/,
    enrolSms: /^Code to change the two-step login: (\d{6})\. /,
    loginTitle: 'Confirm the login',
    loginIntroApp: 'The password is right. Enter the 6 digits from your authenticator app.',
    loginIntroSms: (masked) => `The password is right. Enter the code from the SMS sent to ${masked}.`,
    loginSms: /^Login code: (\d{6})\. /,
    loginSubmit: 'Log in',
    turnOffTitle: 'Turn two-step login off',
    turnOff: 'Turn off',
    sendSmsCode: 'Get a code by SMS',
    errCode: 'Enter the confirmation code',
    evEnabled: 'Two-step login turned on',
    evDisabled: 'Two-step login turned off',
    evAsked: 'Password right, confirmation code asked',
    evWrong: 'Wrong confirmation code at login',
    change: 'Change',
    add: 'Add',
    phoneTitle: 'Mobile phone number',
    emailTitle: 'E-mail',
    sendCode: 'Get the code',
    sendLetter: 'Send the letter',
    errCurrent: 'The current password is wrong',
    confirmTitle: 'Confirmation',
    contactCodeSent: (typed) => `The code was sent to ${typed}.`,
    letterSent: (email) => `A letter with a link was sent to ${email}. Follow the link in the letter.`,
    contactCodeWrong: /^Wrong code\. Attempts left: (\d+)$/,
    contactSms: /^Code to link this number to your account: (\d{6})\. /,
    phoneChanged: 'The phone number is changed. Log in with the new number from now on.',
    phoneChangedNotice: (last2) => new RegExp(`^The phone number of your account was changed to \\+7 \\*\\*\\* \\*\\*\\*-\\*\\*-${last2}\\. `),
    letterSubject: 'Confirm your new e-mail address',
    emailChangedPage: 'The e-mail address is changed.',
    changedLogIn: 'Log in to continue.',
    emailChanged: 'The e-mail address is changed.',
    emailAddedNotice: (masked) => new RegExp(`^The e-mail ${masked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was added to your account\\. `),
    linkInvalidTitle: 'The link is not valid',
    evPhoneChanged: 'Phone number changed',
    evEmailChanged: 'E-mail changed',
  },
};

// ------------------------------------------------------------------ helpers

/**
 * `j.step()`, and in English no Russian left on the page (but the name of
 * the language switcher's «Русский»): a text not translated is a bug.
 */
async function step(j, name, opts) {
  await j.step(name, opts);
  if (j.cfg.lang !== 'en') return;
  const body = await j.page.locator('body').innerText();
  const russian = body.split('\n').filter((l) => /[А-Яа-яЁё]/.test(l.replace('Русский', '')));
  if (russian.length) {
    await j.soft(`${j.cfg.name}/${j.slug} step ${name} (${j.page.url()}): Russian on an English page`, () => {
      assert.deepEqual(russian, []);
    });
  }
}

/**
 * The radios of «Как подтверждать вход» sit beside their labels (as
 * everywhere else on the portal), not on a line of their own above them.
 */
async function expectRadiosBesideLabels(j) {
  const rows = await j.page.evaluate(() =>
    ['method-totp', 'method-sms'].map((id) => {
      const r = document.getElementById(id).getBoundingClientRect();
      const l = document.querySelector(`label[for="${id}"]`).getBoundingClientRect();
      return { id, radio: [Math.round(r.top), Math.round(r.bottom)], label: [Math.round(l.top), Math.round(l.bottom)], beside: l.top < r.bottom && r.top < l.bottom };
    }),
  );
  const apart = rows.filter((x) => !x.beside).map((x) => `#${x.id} at y ${x.radio.join('–')} px, its label at y ${x.label.join('–')} px`);
  assert.ok(apart.length === 0, `${j.cfg.name}/${j.slug}: radios apart from their labels: ${apart.join('; ')}`);
}

const text = async (locator) => (await locator.innerText()).trim();

/** `+7 (925) ***-**-02`: the phone as the second factor's pages show it (PhoneNumber::masked). */
const maskedPhone = (phone) => `+7 (${phone.digits.slice(0, 3)}) ***-**-${phone.digits.slice(8, 10)}`;

/** `ma***@example.ru`: an address as the notices show it (Email::masked). */
function maskedEmail(email) {
  const [local, domain] = email.split('@');
  return `${local.slice(0, local.length > 3 ? 2 : 1)}***@${domain}`;
}

/** A six-digit code that is not `code`. */
const otherCode = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** A backup code: ten characters of a-z and 2-9 without look-alikes, `abcde-fghjk`. */
const BACKUP_CODE = /^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/;

/** The key of an app, as the enrolment page groups it: 32 base32 characters in eight fours. */
const GROUPED_KEY = /^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/;

/** The code of the newest unread SMS to `e164` matching `re` (its first group). */
async function smsCode(j, e164, re) {
  const sms = await j.outbox.waitFor(e164, re, { channel: 'sms' });
  return sms.body.match(re)[1];
}

/** Logs in at /login?next=/me without a step of its own (the login page is another journey's). */
async function quietLogIn(j, login, password = j.t.password) {
  await navigate(j, () => j.goto('/login?next=%2Fme'));
  await j.page.fill('#login', login);
  await j.page.fill('#password', password);
  return clickButton(j, j.t.loginButton);
}

/** «Мои данные» → «Безопасность». */
async function openSecurity(j, stepName) {
  const s = TEXTS[j.cfg.lang];
  await navigate(j, () => j.goto('/me'));
  await clickLink(j, s.securityLink);
  await j.expectPath('/me/security');
  await j.expectH1(s.securityTitle);
  if (stepName) await step(j, stepName);
}

/** What «Вход с подтверждением» on «Безопасность» says of itself. */
const factorStatus = (j) => text(j.page.locator('#factor-status'));

/** The history's lines, newest first: the «what» of each. */
async function historyWhat(j) {
  const lines = await j.page.locator('#history li').allInnerTexts();
  return lines.map((l) => l.slice(l.indexOf(' — ') + 3).trim());
}

/** The code page of a login with the second factor on. */
async function expectLoginCodePage(j, intro) {
  const s = TEXTS[j.cfg.lang];
  await j.expectPath('/login/code?next=%2Fme');
  await j.expectLang();
  await j.expectH1(s.loginTitle);
  assert.equal(await text(j.page.locator('#factor-intro')), intro);
  assert.equal(await j.page.inputValue('#code'), '', 'the code field starts empty');
  const session = (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-session');
  assert.ok(!session || session.value === '', 'no session before the code');
  const step = (await j.context.cookies()).find((c) => c.name === '__Host-uslugi-login');
  assert.ok(step?.value, 'the login step has its cookie');
}

/** A code typed on /login/code: the status of the page after «Войти». */
async function enterLoginCode(j, code) {
  const s = TEXTS[j.cfg.lang];
  await j.page.fill('#code', code);
  return clickButton(j, s.loginSubmit);
}

/** «Включить» on «Безопасность» → the form of «Вход с подтверждением». */
async function openTurnOn(j, phone) {
  const s = TEXTS[j.cfg.lang];
  await clickLink(j, s.turnOn);
  await j.expectPath('/me/security/second-factor');
  await j.expectH1(s.factorTitle);
  assert.equal(await text(j.page.locator('label[for="method-totp"]')), s.methodApp);
  assert.equal(await text(j.page.locator('label[for="method-sms"]')), s.methodSms(maskedPhone(phone)));
  assert.ok(await j.page.isChecked('#method-sms'), 'an account with a phone starts with SMS chosen');
  assert.equal(await j.page.inputValue('#password'), '');
  await expectRadiosBesideLabels(j);
}

/** The ten backup codes of the page «Резервные коды», checked and read. */
async function readBackupCodes(j) {
  const s = TEXTS[j.cfg.lang];
  await j.expectH1(s.codesTitle);
  assert.equal(await text(j.page.locator('main p.notice[role=status]')), s.turnedOn);
  const codes = (await j.page.locator('#backup-codes li code').allInnerTexts()).map((c) => c.trim());
  assert.equal(codes.length, 10, `ten backup codes: ${JSON.stringify(codes)}`);
  for (const c of codes) assert.match(c, BACKUP_CODE, 'a backup code');
  assert.equal(new Set(codes).size, 10, 'all different');
  return codes;
}

// ------------------------------------------------------------------ «Вход с подтверждением»

/**
 * An authenticator app: «Безопасность» → «Включить» → the app and a wrong
 * password (named) → the password → the QR code and the key → a wrong code
 * (named) → the app's code → ten backup codes → «Я сохранил коды» → on, ten
 * codes left → the SMS notice → log out → the password → «Подтверждение
 * входа» → a wrong code («Осталось попыток: 4») → a backup code typed in
 * capitals without the hyphen → in → log out → the same backup code is
 * refused → the app's next code → in → the history → «Отключить…»: the app's
 * code already used is refused, another backup code works → off → the next
 * login asks no code.
 */
export async function secondFactorApp(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const phone = j.phone();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  await j.goto('/login?next=%2Fme');
  await logIn(j, phone.typed, { stepName: 'login' });
  await j.expectPath('/me');

  await openSecurity(j);
  assert.equal(await factorStatus(j), s.factorOff, 'the second factor starts off');
  await step(j, 'security-factor-off');
  await openTurnOn(j, phone);
  await page.check('#method-totp');
  await step(j, 'factor-on-form');

  // A wrong password: named on its field, the choice kept.
  await page.fill('#password', t.newPassword);
  assert.equal(await clickButton(j, s.turnOn), 422);
  await j.expectPath('/me/security/second-factor');
  await expectFieldError(j, 'password', s.errPassword);
  assert.ok(await page.isChecked('#method-totp'), 'the app stays chosen');
  assert.equal(await page.inputValue('#password'), '', 'a password is never sent back');
  await expectErrorSummaryFocused(j);
  await step(j, 'factor-on-wrong-password');

  await page.fill('#password', t.password);
  assert.equal(await clickButton(j, s.turnOn), 200);
  assert.match(new URL(page.url()).pathname, /^\/me\/security\/second-factor\/enrol\/[0-9a-f-]{36}$/);
  await j.expectH1(s.enrolTitle);
  const qr = page.getByRole('img', { name: s.enrolQrAlt, exact: true });
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml[;,]/, 'the QR code is a data: URI');
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code shows');
  const key = await text(page.locator('#totp-key'));
  assert.match(key, GROUPED_KEY, `the key in groups of four: «${key}»`);
  assert.equal(await text(page.locator('label[for="code"]')), s.enrolAppCode);
  const app = new Authenticator(key);
  await step(j, 'enrol-app', { doc: '26-factor-enrol' });

  // A wrong code: named, with the tries left (five for an app).
  await page.fill('#code', app.wrong());
  assert.equal(await clickButton(j, s.confirm), 422);
  const wrong = await expectFieldError(j, 'code', s.errWrongLeft);
  assert.equal(wrong.match(s.errWrongLeft)[1], '4', `four tries left: «${wrong}»`);
  assert.equal(await text(page.locator('#totp-key')), key, 'the same key after a wrong code');
  await expectErrorSummaryFocused(j);
  await step(j, 'enrol-wrong-code');

  // The app's code of now: the factor is on; the step is spent.
  await page.fill('#code', await app.next());
  assert.equal(await clickButton(j, s.confirm), 200);
  const codes = await readBackupCodes(j);
  await step(j, 'backup-codes', { doc: '27-backup-codes' });

  await clickLink(j, s.codesDone);
  await j.expectPath('/me/security?factor=on');
  assert.equal(await text(page.locator('main p.notice[role=status]')), s.turnedOn);
  assert.equal(await factorStatus(j), `${s.onApp} ${s.codesLeft(10)}`);
  assert.equal((await historyWhat(j))[0], s.evEnabled, 'the history says so');
  await step(j, 'security-factor-on', { doc: '28-security' });
  await j.outbox.waitFor(phone.e164, s.onAppNotice, { channel: 'sms' });

  // Logging in asks for the code now.
  await logOut(j);
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await expectLoginCodePage(j, s.loginIntroApp);
  await step(j, 'login-code', { doc: '29-login-code' });
  assert.equal(await enterLoginCode(j, app.wrong('123456')), 422);
  const left = await expectFieldError(j, 'code', s.errWrongLeft);
  assert.equal(left.match(s.errWrongLeft)[1], '4', `four tries left: «${left}»`);
  await expectErrorSummaryFocused(j);
  await step(j, 'login-code-wrong');

  // A backup code, as a person may type it: capitals, no hyphen.
  const backup = codes[3];
  assert.equal(await enterLoginCode(j, backup.replace('-', '').toUpperCase()), 200);
  await j.expectPath('/me');
  await j.expectH1(t.meTitle);
  assert.equal((await j.context.cookies()).find((c) => c.name === '__Host-uslugi-login')?.value || '', '', 'the step cookie is gone');
  await step(j, 'me-by-backup-code');

  // A backup code works once.
  await logOut(j);
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await expectLoginCodePage(j, s.loginIntroApp);
  assert.equal(await enterLoginCode(j, backup), 422);
  const spent = await expectFieldError(j, 'code', s.errWrongLeft);
  assert.equal(spent.match(s.errWrongLeft)[1], '4', `a used backup code is a wrong code: «${spent}»`);
  await step(j, 'backup-code-spent');
  // The app's next code (the one of enrolment is spent).
  const loginCode = await app.next();
  assert.equal(await enterLoginCode(j, loginCode), 200);
  await j.expectPath('/me');

  await openSecurity(j);
  assert.equal(await factorStatus(j), `${s.onApp} ${s.codesLeft(9)}`, 'one backup code used');
  const history = await historyWhat(j);
  for (const what of [s.evEnabled, s.evAsked, s.evWrong]) {
    assert.ok(history.includes(what), `«${what}» in the history: ${JSON.stringify(history.slice(0, 12))}`);
  }
  await step(j, 'security-history');

  // «Отключить вход с подтверждением»: the password and a code.
  await clickLink(j, s.turnOffTitle);
  await j.expectPath('/me/security/second-factor/off');
  await j.expectH1(s.turnOffTitle);
  assert.equal(await page.getByRole('button', { name: s.sendSmsCode, exact: true }).count(), 0, 'no SMS for an app');
  await step(j, 'factor-off-form');
  // The code that logged in a moment ago is spent.
  await page.fill('#password', t.password);
  await page.fill('#code', loginCode);
  assert.equal(await clickButton(j, s.turnOff), 422);
  await expectFieldError(j, 'code', s.errWrong);
  await expectErrorSummaryFocused(j);
  await step(j, 'factor-off-spent-code');
  await page.fill('#password', t.password);
  await page.fill('#code', codes[7]);
  assert.equal(await clickButton(j, s.turnOff), 200);
  await j.expectPath('/me/security?factor=off');
  assert.equal(await text(page.locator('main p.notice[role=status]')), s.turnedOff);
  assert.equal(await factorStatus(j), s.factorOff);
  assert.equal((await historyWhat(j))[0], s.evDisabled);
  await step(j, 'security-factor-turned-off');
  await j.outbox.waitFor(phone.e164, s.offNotice, { channel: 'sms' });

  // The next login asks no code.
  await logOut(j);
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await j.expectPath('/me');
  await step(j, 'me-without-code');
}

/**
 * SMS codes: «Включить» → «Код в SMS на номер +7 (…) ***-**-NN» (chosen
 * already) → the password → the code from the SMS → the backup codes → on
 * → log out → the password → «…Введите код из SMS, отправленного на номер
 * …» → the SMS «Код для входа: …» → in.
 */
export async function secondFactorSms(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const phone = j.phone();
  const masked = maskedPhone(phone);
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await j.expectPath('/me');

  await openSecurity(j, 'security-factor-off');
  await openTurnOn(j, phone);
  await page.fill('#password', t.password);
  await step(j, 'factor-on-sms');
  assert.equal(await clickButton(j, s.turnOn), 200);
  assert.match(new URL(page.url()).pathname, /^\/me\/security\/second-factor\/enrol\/[0-9a-f-]{36}$/);
  await j.expectH1(s.enrolTitle);
  assert.equal(await text(page.locator('#factor-intro')), s.codeSentTo(masked));
  assert.equal(await page.locator('main img').count(), 0, 'no QR code for SMS');
  assert.equal(await text(page.locator('label[for="code"]')), s.enrolSmsCode);
  await step(j, 'enrol-sms');
  const enrolCode = await smsCode(j, phone.e164, s.enrolSms);
  await page.fill('#code', otherCode(enrolCode));
  assert.equal(await clickButton(j, s.confirm), 422);
  const wrong = await expectFieldError(j, 'code', s.errWrongLeft);
  assert.equal(wrong.match(s.errWrongLeft)[1], '2', `an SMS code has three tries: «${wrong}»`);
  await step(j, 'enrol-sms-wrong-code');
  await page.fill('#code', enrolCode);
  assert.equal(await clickButton(j, s.confirm), 200);
  await readBackupCodes(j);
  await step(j, 'backup-codes');
  await clickLink(j, s.codesDone);
  await j.expectPath('/me/security?factor=on');
  assert.equal(await factorStatus(j), `${s.onSms(masked)} ${s.codesLeft(10)}`);
  await step(j, 'security-factor-on-sms');
  await j.outbox.waitFor(phone.e164, s.onSmsNotice, { channel: 'sms' });

  await logOut(j);
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await expectLoginCodePage(j, s.loginIntroSms(masked));
  await step(j, 'login-code-sms');
  const code = await smsCode(j, phone.e164, s.loginSms);
  assert.equal(await enterLoginCode(j, code), 200);
  await j.expectPath('/me');
  await j.expectH1(t.meTitle);
  await step(j, 'me-by-sms-code');

  // A new phone now needs the factor too: a code to the current phone.
  const fresh = j.phone();
  await navigate(j, () => page.locator('#change-phone').click());
  await j.expectPath('/me/contacts/phone');
  assert.equal(await page.locator('#code').count(), 1, 'the factor is asked');
  await page.fill('#phone', fresh.typed);
  await page.fill('#password', t.password);
  assert.equal(await clickButton(j, s.sendCode), 422);
  await expectFieldError(j, 'code', s.errCode);
  await step(j, 'phone-form-factor-asked');
  assert.equal(await clickButton(j, s.sendSmsCode), 200);
  await j.expectPath('/me/contacts/phone?sent=1');
  await j.expectText(s.codeSentTo(masked));
  await step(j, 'phone-form-factor-sent');
  const consent = await smsCode(j, phone.e164, s.enrolSms);
  await page.fill('#phone', fresh.typed);
  await page.fill('#password', t.password);
  await page.fill('#code', consent);
  assert.equal(await clickButton(j, s.sendCode), 200);
  assert.match(new URL(page.url()).pathname, /^\/me\/contacts\/changes\/[0-9a-f-]{36}$/);
  await page.fill('#code', await smsCode(j, fresh.e164, s.contactSms));
  assert.equal(await clickButton(j, s.confirm), 200);
  await j.expectPath('/me?contact_changed=phone');
  await step(j, 'phone-changed-with-factor');
  // The login's codes go to the new phone from now on.
  await logOut(j);
  assert.equal(await quietLogIn(j, fresh.typed), 200);
  await expectLoginCodePage(j, s.loginIntroSms(maskedPhone(fresh)));
  assert.equal(await enterLoginCode(j, await smsCode(j, fresh.e164, s.loginSms)), 200);
  await j.expectPath('/me');
}

/** Whether the focused element shows where the focus is (as `tabTo` checks each stop). */
async function focusShown(j) {
  return j.page.evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    return {
      id: el.id,
      visible: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none',
    };
  });
}

/**
 * The authenticator app with the keyboard alone: «Безопасность» →
 * «Включить» → the app (arrow keys in the radio group) → the password →
 * the key → the code → «Я сохранил коды» → log out → the password → the
 * code field has the focus → the app's next code → «Мои данные».
 */
export async function keyboardSecondFactor(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const kb = page.keyboard;
  const phone = j.phone();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  await j.goto('/login?next=%2Fme');
  await typeInto(j, '#login', phone.typed);
  await typeInto(j, '#password', t.password);
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me');

  await tabTo(j, 'main a[href="/me/security"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me/security');
  await tabTo(j, 'main a[href="/me/security/second-factor"]');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me/security/second-factor');
  // Tab enters the radio group at the chosen one (SMS); the arrows move the choice.
  await tabTo(j, 'input[name=method]');
  await kb.press('ArrowUp');
  assert.ok(await page.isChecked('#method-totp'), 'the app is chosen with the arrow keys');
  assert.ok((await focusShown(j)).visible, 'the focus shows on the chosen radio');
  await typeInto(j, '#password', t.password);
  await step(j, 'factor-on-typed');
  await navigate(j, () => kb.press('Enter'));
  await j.expectH1(s.enrolTitle);
  const app = new Authenticator(await text(page.locator('#totp-key')));
  await typeInto(j, '#code', await app.next());
  await step(j, 'enrol-typed');
  await tabTo(j, 'main form button[type=submit]');
  await navigate(j, () => kb.press('Space'));
  await readBackupCodes(j);
  await step(j, 'backup-codes');
  await tabTo(j, 'main a[href="/me/security?factor=on"]');
  await navigate(j, () => kb.press('Enter'));
  assert.equal(await factorStatus(j), `${s.onApp} ${s.codesLeft(10)}`);
  await step(j, 'security-factor-on');

  await tabTo(j, 'header button');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/login?logged_out=1');
  await navigate(j, () => j.goto('/login?next=%2Fme'));
  await typeInto(j, '#login', phone.typed);
  await typeInto(j, '#password', t.password);
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/login/code?next=%2Fme');
  await j.expectH1(s.loginTitle);
  // The code field takes the focus (autofocus), and shows it.
  assert.deepEqual(await focusShown(j), { id: 'code', visible: true }, 'the code field has a visible focus');
  await kb.type(await app.next());
  await step(j, 'login-code-typed');
  await navigate(j, () => kb.press('Enter'));
  await j.expectPath('/me');
  await j.expectH1(t.meTitle);
  await step(j, 'me');
}

// ------------------------------------------------------------------ «Изменить» by the phone or the e-mail

/** The contacts of «Мои данные»: { phone, email } as the lines read. */
async function contactsShown(j) {
  const dds = j.page.locator('section[aria-labelledby="contacts"] dd');
  return { phone: await text(dds.nth(0)), email: await text(dds.nth(1)) };
}

/**
 * A new phone: «Мои данные» → «Изменить» by the phone → the new number and
 * a wrong password (named) → the password → the code page → a wrong code →
 * the code from the SMS to the new number → «Номер телефона изменён», the
 * new number shown → the old number told by SMS → log out; the old number
 * logs in no more («Неверный логин или пароль»), the new one does.
 */
export async function changePhone(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const phone = j.phone();
  const fresh = j.phone();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  await j.goto('/login?next=%2Fme');
  await logIn(j, phone.typed, { stepName: 'login' });
  await j.expectPath('/me');
  assert.equal((await contactsShown(j)).phone, `${phone.typed} ${s.change}`);
  await step(j, 'me');

  await navigate(j, () => page.locator('#change-phone').click());
  await j.expectPath('/me/contacts/phone');
  await j.expectH1(s.phoneTitle);
  await step(j, 'phone-form', { doc: '30-contact-phone' });

  await page.fill('#phone', fresh.typed);
  await page.fill('#password', t.newPassword);
  assert.equal(await clickButton(j, s.sendCode), 422);
  await j.expectPath('/me/contacts/phone');
  await expectFieldError(j, 'password', s.errCurrent);
  assert.equal(await page.inputValue('#phone'), fresh.typed, 'the new number stays typed');
  assert.equal(await page.locator('#phone-error').count(), 0, 'the number itself is fine');
  await expectErrorSummaryFocused(j);
  await step(j, 'phone-wrong-password');

  await page.fill('#password', t.password);
  assert.equal(await clickButton(j, s.sendCode), 200);
  assert.match(new URL(page.url()).pathname, /^\/me\/contacts\/changes\/[0-9a-f-]{36}$/);
  await j.expectH1(s.confirmTitle);
  await j.expectText(s.contactCodeSent(fresh.typed));
  await step(j, 'phone-code');
  const code = await smsCode(j, fresh.e164, s.contactSms);

  await page.fill('#code', otherCode(code));
  assert.equal(await clickButton(j, s.confirm), 422);
  const wrong = await expectFieldError(j, 'code', s.contactCodeWrong);
  assert.equal(wrong.match(s.contactCodeWrong)[1], '2', `two tries left: «${wrong}»`);
  await expectErrorSummaryFocused(j);
  await step(j, 'phone-wrong-code');

  await page.fill('#code', code);
  assert.equal(await clickButton(j, s.confirm), 200);
  await j.expectPath('/me?contact_changed=phone');
  await j.expectH1(t.meTitle);
  assert.equal(await text(page.locator('#contact-changed')), s.phoneChanged);
  assert.equal((await contactsShown(j)).phone, `${fresh.typed} ${s.change}`, 'the new number on «Мои данные»');
  await step(j, 'phone-changed');
  // The old number hears of it.
  await j.outbox.waitFor(phone.e164, s.phoneChangedNotice(fresh.digits.slice(8)), { channel: 'sms' });

  await logOut(j);
  await page.fill('#login', phone.typed);
  await page.fill('#password', t.password);
  assert.equal(await clickButton(j, t.loginButton), 401, 'the old number logs in no more');
  await j.expectText(t.badCredentials, '#error-summary');
  await step(j, 'old-phone-refused');
  await page.fill('#login', fresh.typed);
  await page.fill('#password', t.password);
  assert.equal(await clickButton(j, t.loginButton), 200, 'the new number logs in');
  await navigate(j, () => j.goto('/me'));
  await j.expectPath('/me');
  await j.expectText(fresh.typed);
  await step(j, 'me-new-phone');
  await openSecurity(j);
  const history = await historyWhat(j);
  assert.ok(history.includes(s.evPhoneChanged), `«${s.evPhoneChanged}» in the history: ${JSON.stringify(history.slice(0, 6))}`);
  await step(j, 'security-phone-changed');
}

/**
 * An e-mail added to an account registered by phone: «Добавить» by the
 * e-mail → the address and the password → «Письмо со ссылкой отправлено…»
 * → the link of the letter, opened in a stranger's browser and left there:
 * «Мои данные» still has no address → the link opened in another browser
 * without logging in → «Подтвердить» → «Адрес электронной почты изменён.» →
 * «Мои данные» shows the address; the phone hears of it; the link works
 * once (the stranger's page, pressed now, too finds it used); the address
 * logs in.
 */
export async function addEmail(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const phone = j.phone();
  const email = j.email();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await j.expectPath('/me');
  assert.equal((await contactsShown(j)).email, `${t.notGiven} ${s.add}`);
  await step(j, 'me-no-email');

  await navigate(j, () => page.locator('#change-email').click());
  await j.expectPath('/me/contacts/email');
  await j.expectH1(s.emailTitle);
  await page.fill('#email', email);
  await page.fill('#password', t.password);
  await step(j, 'email-form');
  assert.equal(await clickButton(j, s.sendLetter), 200);
  assert.match(new URL(page.url()).pathname, /^\/me\/contacts\/changes\/[0-9a-f-]{36}$/);
  await j.expectH1(s.confirmTitle);
  await j.expectText(s.letterSent(email));
  assert.equal(await page.locator('#code').count(), 0, 'nothing to type for a letter');
  await step(j, 'email-sent');

  const mail = await j.outbox.waitFor(email, /\/me\/contacts\/confirm-email\?token=/, { channel: 'email' });
  assert.equal(mail.subject, s.letterSubject);
  const url = mail.body.match(/https?:\/\/\S+\/me\/contacts\/confirm-email\?token=[A-Za-z0-9_\-%.~]+/)?.[0];
  assert.ok(url?.startsWith(`${j.baseUrl}/`), `a link to the portal in the letter: ${mail.body}`);

  // A stranger's browser (or a mail scanner) opens the link and leaves it: nothing changes.
  const stranger = await j.person();
  await j.as(stranger, async () => {
    await openEmailLink(j, url, { who: email, lead: t.linkConfirmContact });
    await step(j, 'email-link-opened');
  });
  await navigate(j, () => j.goto('/me'));
  assert.equal((await contactsShown(j)).email, `${t.notGiven} ${s.add}`, 'the link only opened: no address yet');
  await step(j, 'me-link-only-opened');

  // The letter is read on another device, where nobody is logged in: «Подтвердить» there.
  const elsewhere = await j.person();
  await j.as(elsewhere, async () => {
    await openEmailLink(j, url, { who: email, lead: t.linkConfirmContact });
    assert.equal(await pressConfirm(j), 200);
    await j.expectPath('/me/contacts/confirm-email');
    await j.expectH1(s.emailTitle);
    await j.expectText(s.emailChangedPage);
    assert.equal(await j.page.getByRole('link', { name: s.changedLogIn, exact: true }).getAttribute('href'), '/login?next=%2Fme');
    await step(j, 'email-link-elsewhere');
    // A link works once.
    assert.equal(await navigate(j, () => j.page.goto(url)), 410, 'a used link');
    await j.expectH1(s.linkInvalidTitle);
    await step(j, 'email-link-used');
  });
  // The page the stranger left open: pressed now, the link is used.
  await j.as(stranger, async () => {
    assert.equal(await pressConfirm(j), 410, 'a used link, pressed');
    await j.expectH1(s.linkInvalidTitle);
  });

  await navigate(j, () => j.goto('/me'));
  assert.equal((await contactsShown(j)).email, `${email} ${s.change}`, 'the address on «Мои данные»');
  await step(j, 'me-email');
  await j.outbox.waitFor(phone.e164, s.emailAddedNotice(maskedEmail(email)), { channel: 'sms' });

  // The address logs in now.
  await j.as(elsewhere, async () => {
    assert.equal(await quietLogIn(j, email), 200);
    await j.expectPath('/me');
    await j.expectText(phone.typed);
  });
}

// ------------------------------------------------------------------ my data, deletion

/** Clicks the link `name` and returns the file it downloads: its name and bytes. */
async function download(j, name) {
  const [file] = await Promise.all([
    j.page.waitForEvent('download'),
    j.page.getByRole('link', { name, exact: true }).first().click(),
  ]);
  return { name: file.suggestedFilename(), bytes: fs.readFileSync(await file.path()) };
}

/**
 * «Мои данные» → «Скачать мои данные (PDF)» (a PDF file) and its JSON for
 * programs (the account's own phone, the download in its history) →
 * «Удалить учётную запись» → a wrong password (named) → the password → «Учётная
 * запись будет удалена …» with the date, logged out → the notice by SMS →
 * logging in again cancels it (told by SMS) → the history shows both.
 */
export async function myDataAndDeletion(j) {
  const { t, page } = j;
  const s = TEXTS[j.cfg.lang];
  const phone = j.phone();
  await createAccount(j.baseUrl, j.outbox, { surname: t.people.surname, givenName: t.people.givenName, phone, password: t.password, lang: t.lang });
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await j.expectPath('/me');
  await step(j, 'me');

  const pdf = await download(j, s.pdfLink);
  assert.equal(pdf.name, 'uslugi-my-data.pdf');
  assert.equal(pdf.bytes.subarray(0, 5).toString('latin1'), '%PDF-', 'a PDF file');
  const json = await download(j, 'JSON');
  assert.equal(json.name, 'uslugi-my-data.json');
  const doc = JSON.parse(json.bytes.toString('utf8'));
  assert.equal(doc.account.phone, phone.e164, 'the account\'s own data');
  // The PDF's download is in the history; this one is recorded once taken.
  assert.equal(doc.history.filter((h) => h.action === 'data_exported').length, 1, 'the PDF\'s download in the history');

  await clickLink(j, s.deleteLink);
  await j.expectPath('/me/delete');
  await j.expectH1(s.deleteTitle);
  await step(j, 'delete-form');
  await page.fill('#password', `${t.password}!`);
  assert.equal(await clickButton(j, s.deleteButton), 422);
  await expectFieldError(j, 'password', s.errPassword);
  await expectErrorSummaryFocused(j);
  await step(j, 'delete-wrong-password');
  await page.fill('#password', t.password);
  assert.equal(await clickButton(j, s.deleteButton), 200);
  await j.expectH1(s.scheduledTitle);
  assert.match(await text(page.locator('main p[role=status]')), s.scheduledText);
  await step(j, 'delete-scheduled');
  await j.outbox.waitFor(phone.e164, s.deletionNotice, { channel: 'sms' });
  await navigate(j, () => j.goto('/me'));
  await j.expectPath('/login?next=%2Fme');

  // Changed their mind: logging in again cancels it.
  assert.equal(await quietLogIn(j, phone.typed), 200);
  await j.expectPath('/me');
  await j.outbox.waitFor(phone.e164, s.cancelledNotice, { channel: 'sms' });
  await openSecurity(j);
  const history = await historyWhat(j);
  for (const ev of [s.evDeletionAsked, s.evDeletionCancelled]) {
    assert.ok(history.includes(ev), `«${ev}» in the history: ${JSON.stringify(history.slice(0, 8))}`);
  }
  await step(j, 'deletion-cancelled');
}
