// The operator's side: an operator made with the CLI while the server runs
// (`uslugi admin operator add`), and the authenticator app of their phone,
// computed here (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The center of the journeys' operators: it registers, confirms identity and restores access. */
export const CENTER = 'kaluga-mfc-kaluga-ul-khrustalnaya-34a';
/** Its name, as the console's header shows it. */
export const CENTER_NAME = 'МФЦ «Мои Документы»';

// ------------------------------------------------------------------ TOTP

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (spaces, case and '=' ignored, as people copy a key) to bytes. */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)} in ${text}`);
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
      buffer &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP: HMAC-SHA1 over the 8-byte big-endian counter, dynamic truncation, 6 digits. */
export function hotp(key, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', key).update(msg).digest();
  const offset = h[19] & 0x0f;
  const n = h.readUInt32BE(offset) & 0x7fffffff;
  return String(n % 1_000_000).padStart(6, '0');
}

/** The current 30-second step: floor(unix seconds / 30). */
export const currentStep = () => Math.floor(Date.now() / 1000 / 30);

/** The code an app shows for this key, `offsetSteps` steps from now (0: now, 1: the next). */
export function totpCode(keyBase32, offsetSteps = 0) {
  return hotp(base32Decode(keyBase32), currentStep() + offsetSteps);
}

/**
 * The authenticator app of one operator. A code works once: the server
 * keeps the last step used and accepts the steps now-1, now and now+1 that
 * are later than it. `next()` gives the code of the earliest step the
 * server will take (the next step's code when the current one is used),
 * waiting for the clock only when even that is used.
 */
export class Authenticator {
  constructor(keyBase32) {
    this.keyText = keyBase32;
    this.key = base32Decode(keyBase32);
    assert.equal(this.key.length, 20, `a 160-bit key: ${keyBase32}`);
    this.lastStep = null;
  }

  async next() {
    for (;;) {
      const now = currentStep();
      const step = this.lastStep === null ? now : Math.max(now, this.lastStep + 1);
      if (step <= now + 1) {
        this.lastStep = step;
        return hotp(this.key, step);
      }
      await sleep((now + 1) * 30_000 - Date.now() + 50);
    }
  }

  /** Six digits that no step near now gives: a wrong code. */
  wrong(preferred = '000000') {
    const now = currentStep();
    const near = new Set([-2, -1, 0, 1, 2].map((d) => hotp(this.key, now + d)));
    let code = preferred;
    while (near.has(code)) code = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    return code;
  }
}

// ------------------------------------------------------------------ the CLI

/** One run of `uslugi admin operator add`: { ok, stdout, stderr }. */
async function operatorAdd(server, center, role) {
  try {
    const { stdout, stderr } = await run(
      server.binary,
      ['admin', 'operator', 'add', '--center', center, '--role', role, '--data-dir', server.dataDir],
      { env: { ...server.env, USLUGI_LOG: 'warn' }, timeout: 30_000 },
    );
    return { ok: true, stdout, stderr };
  } catch (e) {
    return { ok: false, stdout: e.stdout || '', stderr: e.stderr || e.message };
  }
}

/**
 * `uslugi admin operator add` beside the running server, with its data
 * directory and environment (USLUGI_BASE_URL, so that the link leads to
 * it). Returns the one-time enrolment link it prints.
 *
 * The command works while the server writes to the same SQLite file (WAL;
 * write transactions take the lock at once and wait out the busy timeout).
 */
export async function addOperator(server, { center = CENTER, role = 'operator' } = {}) {
  assert.ok(server?.binary && server.dataDir && server.env, 'the journey knows the server (binary, dataDir, env)');
  const out = await operatorAdd(server, center, role);
  assert.ok(out.ok, `\`uslugi admin operator add\` failed:\n${out.stderr}`);
  const { stdout } = out;
  const m = stdout.match(/https?:\/\/\S+\/operator\/enrol\?token=[A-Za-z0-9_\-]+/);
  assert.ok(m, `an enrolment link in the output of \`uslugi admin operator add\`:\n${stdout}`);
  assert.ok(m[0].startsWith(`${server.baseUrl}/`), `the link leads to the server: ${m[0]}`);
  return m[0];
}

/**
 * `n` runs of `uslugi admin operator add` at the same moment (several
 * administrators at work): the stderr of each run that failed.
 */
export async function addOperatorsAtOnce(server, n, { center = CENTER, role = 'operator' } = {}) {
  const outs = await Promise.all(Array.from({ length: n }, () => operatorAdd(server, center, role)));
  return outs.filter((o) => !o.ok).map((o) => o.stderr.trim());
}

/** A new operator of the journey: a login of its own (a code works once per operator). */
export function newOperator(j) {
  j.people += 1;
  return {
    name: j.t.operatorName,
    login: `op-${j.seq}-${j.people}`,
    password: j.t.operatorPassword,
  };
}
