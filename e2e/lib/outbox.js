// Reads SMS and e-mail from the server's local outbox, the way a person reads
// their phone or mailbox: the newest message sent to their number or address.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
