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
  if (phone) {
    const code = await outbox.code(phone.e164);
    await post(baseUrl, `/registrations/${id}/confirm`, { code }, lang);
  } else {
    const { url } = await outbox.link(email);
    const token = new URL(url).searchParams.get('token');
    await post(baseUrl, `/registrations/${id}/confirm`, { token }, lang);
  }
  await post(baseUrl, `/registrations/${id}/password`, { password, password_confirmation: password }, lang);
}
