// Accounts made through the JSON API, for journeys that start at the login
// page: the browser journeys of registration itself are tested elsewhere.
import assert from 'node:assert/strict';

async function post(baseUrl, path, body, lang) {
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'accept-language': lang },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  assert.ok(res.ok, `POST /api/v1${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Registers an account by phone ({ phone: {typed, e164} }) or e-mail
 * ({ email }) with the given names and password.
 */
export async function createAccount(baseUrl, outbox, { surname, givenName, phone, email, password, lang = 'ru' }) {
  const started = await post(
    baseUrl,
    '/registrations',
    { surname, given_name: givenName, ...(phone ? { phone: phone.typed } : { email }), accept_terms: true },
    lang,
  );
  const id = started.registration_id;
  let confirmed;
  if (phone) {
    const code = await outbox.code(phone.e164);
    confirmed = await post(baseUrl, `/registrations/${id}/confirm`, { code }, lang);
  } else {
    const { url } = await outbox.link(email);
    const token = new URL(url).searchParams.get('token');
    confirmed = await post(baseUrl, `/registrations/${id}/confirm`, { token }, lang);
  }
  // Whoever confirmed, and only they, continues: the confirmation hands over a continuation token.
  const continuation = confirmed.continuation_token;
  assert.ok(continuation, `a continuation token from the confirmation: ${JSON.stringify(confirmed)}`);
  await post(
    baseUrl,
    `/registrations/${id}/password`,
    { password, password_confirmation: password, continuation_token: continuation },
    lang,
  );
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One JSON API call; `token` is a session token (Bearer). */
async function call(baseUrl, method, path, { body, token, lang = 'ru', expect } = {}) {
  const headers = { 'accept-language': lang };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (expect !== undefined) assert.equal(res.status, expect, `${method} /api/v1${path}: ${JSON.stringify(json)}`);
  else assert.ok(res.ok, `${method} /api/v1${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Logs in through the API; the session token. */
export async function apiSession(baseUrl, login, password, lang = 'ru') {
  const s = await call(baseUrl, 'POST', '/sessions', { body: { login, password }, lang, expect: 201 });
  assert.ok(s.session_token, 'a session token');
  return s.session_token;
}

/** An address of the JSON API from { postalCode, region, locality, street, house, building, flat }. */
function apiAddress(a) {
  return {
    postal_code: a.postalCode,
    region: a.region,
    locality: a.locality,
    street: a.street,
    house: a.house,
    building: a.building || '',
    flat: a.flat || '',
  };
}

/**
 * A standard account, made the quick way: registered by phone, personal
 * data of the registry citizen `c` (lib/citizens.js) submitted and verified
 * by both registries, and, when given, the registration and actual
 * addresses. For journeys that start where the standard account ends.
 */
export async function createStandardAccount(baseUrl, outbox, { c, phone, password, lang = 'ru', addresses }) {
  await createAccount(baseUrl, outbox, { surname: c.surname, givenName: c.givenName, phone, password, lang });
  const token = await apiSession(baseUrl, phone.e164, password, lang);
  const form = {
    surname: c.surname,
    given_name: c.givenName,
    patronymic: c.patronymic,
    sex: c.sex,
    birth_date: c.birthDate,
    birth_place: c.birthPlace,
    snils: c.snils,
    citizenship: 'RUS',
    document: {
      type: 'rf_passport',
      series_number: c.passport,
      issue_date: c.issueDate,
      issued_by: c.issuedBy,
      department_code: c.departmentCode,
    },
  };
  await call(baseUrl, 'PUT', '/me/personal-data', { body: form, token, lang });
  await call(baseUrl, 'POST', '/me/personal-data/submit', { body: {}, token, lang, expect: 202 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await call(baseUrl, 'GET', '/me/verification', { token, lang });
    if (v.status === 'verified') break;
    assert.notEqual(v.status, 'failed', `the registries refused the citizen: ${JSON.stringify(v)}`);
    assert.ok(Date.now() < deadline, `the checks did not end in 30 s: ${JSON.stringify(v)}`);
    await sleep(250);
  }
  if (addresses) {
    await call(baseUrl, 'PUT', '/me/addresses', {
      body: { registration: apiAddress(addresses.registration), actual: apiAddress(addresses.actual) },
      token,
      lang,
    });
  }
  const me = await call(baseUrl, 'GET', '/me', { token, lang });
  assert.equal(me.level, 'standard', 'the account is standard');
  // The browser logs in on its own; this session is not needed any more.
  await fetch(`${baseUrl}/api/v1/sessions/current`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  return me;
}
