// Reads SMS and e-mail from the server's local outbox, the way a person reads
// their phone or mailbox: the newest message sent to their number or address.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The code of a registered letter, as printed: 8 symbols of
 * uslugi_domain::letter::CODE_ALPHABET (ABCDEFGHJKMNPQRSTUVWXYZ23456789:
 * no 0, O, 1, I, L) in two groups of four.
 */
export const LETTER_CODE = /Код подтверждения личности: ([A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4})(?![A-Z0-9])/;

/** The temporary password of an SMS from a service center, in either language. */
export const TEMPORARY_PASSWORD = /(?:Временный пароль|Temporary password): ([a-z0-9]{10})(?![A-Za-z0-9])/;

export class Outbox {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    /** ids already handed out, so that "the next message" is a new one */
    this.seen = new Set();
  }

  async all() {
    const res = await fetch(`${this.baseUrl}/dev/outbox.json`);
    if (!res.ok) throw new Error(`GET /dev/outbox.json: ${res.status}`);
    return res.json();
  }

  /** The newest message to `to` that has not been read yet (waits for it). */
  async next(to, { channel, timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = await this.all();
      const mine = messages.filter((m) => m.to === to && (!channel || m.channel === channel));
      const fresh = mine.find((m) => !this.seen.has(m.id)); // newest first
      if (fresh) {
        for (const m of mine) this.seen.add(m.id);
        return fresh;
      }
      if (Date.now() > deadline) {
        throw new Error(`no new ${channel || 'message'} to ${to} in the outbox (${mine.length} old ones)`);
      }
      await sleep(100);
    }
  }

  /**
   * The newest unread message to `to` whose body matches `re` (waits for
   * it); other messages to the same person stay unread.
   */
  async waitFor(to, re, { channel, timeoutMs = 15_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = await this.all();
      const mine = messages.filter((m) => m.to === to && (!channel || m.channel === channel));
      const hit = mine.find((m) => !this.seen.has(m.id) && re.test(m.body));
      if (hit) {
        this.seen.add(hit.id);
        return hit;
      }
      if (Date.now() > deadline) {
        throw new Error(`no new ${channel || 'message'} to ${to} matching ${re} in the outbox; theirs:\n${mine.map((m) => `  ${m.body}`).join('\n')}`);
      }
      await sleep(150);
    }
  }

  /**
   * The copy of a registered letter the simulated post left in the outbox
   * (channel `post`) for the letter with this tracking number (ШПИ): its
   * `to` is the address block and the recipient's name.
   */
  async letter(tracking, { timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const letters = (await this.all()).filter((m) => m.channel === 'post');
      const hit = letters.find((m) => m.body.includes(`ШПИ ${tracking}`));
      if (hit) {
        const m = hit.body.match(LETTER_CODE);
        if (!m) throw new Error(`no identity code in the letter: ${hit.body}`);
        return { ...hit, code: m[1] };
      }
      if (Date.now() > deadline) throw new Error(`no letter with ШПИ ${tracking} in the outbox (${letters.length} letters)`);
      await sleep(150);
    }
  }

  /** The temporary password of the newest new SMS to an E.164 number that gives one. */
  async temporaryPassword(e164) {
    const sms = await this.waitFor(e164, TEMPORARY_PASSWORD, { channel: 'sms' });
    const password = sms.body.match(TEMPORARY_PASSWORD)[1];
    // What a person could mistake for it: another word of the password's alphabet and length.
    const words = sms.body.match(/(?<![A-Za-z0-9])[a-hjkmnp-z2-9]{10}(?![A-Za-z0-9])/g) || [];
    if (words.length !== 1 || words[0] !== password) {
      throw new Error(`expected one temporary password in the SMS, got ${JSON.stringify(words)}: ${sms.body}`);
    }
    return { password, sms };
  }

  /** The 6-digit code of the newest new SMS to an E.164 number. */
  async code(e164) {
    const sms = await this.next(e164, { channel: 'sms' });
    const codes = sms.body.match(/(?<!\d)\d{6}(?!\d)/g) || [];
    if (codes.length !== 1) throw new Error(`expected one 6-digit code in the SMS, got: ${sms.body}`);
    return codes[0];
  }

  /** The confirmation link of the newest new e-mail to an address. */
  async link(address) {
    const mail = await this.next(address, { channel: 'email' });
    const m = mail.body.match(/https?:\/\/\S+\/register\/confirm-email\?token=[A-Za-z0-9_\-%.~]+/);
    if (!m) throw new Error(`no confirmation link in the e-mail: ${mail.body}`);
    return { url: m[0], mail };
  }
}
