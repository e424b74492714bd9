// Starts a real `uslugi serve` on a free loopback port with a fresh data
// directory, and stops it again. One server serves the whole run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCitizens } from './citizens.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

/** The binary to test: $USLUGI_BIN, else the newest of the release and debug builds. */
export function findBinary() {
  if (process.env.USLUGI_BIN) return path.resolve(process.env.USLUGI_BIN);
  const candidates = ['release', 'debug']
    .map((p) => path.join(repoRoot, 'target', p, 'uslugi'))
    .filter((p) => fs.existsSync(p))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (candidates.length === 0) {
    throw new Error('no uslugi binary: run `cargo build --release --bin uslugi` (or set USLUGI_BIN)');
  }
  return candidates[0];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** How long the simulated post takes from acceptance to handing over, in seconds. */
export const POST_DELIVERY_S = 20;

/**
 * Starts the server. `logFile` receives its stdout and stderr.
 * Returns { baseUrl, dataDir, binary, env, stop() }: the binary, data
 * directory and environment also serve `uslugi admin …` commands run beside
 * the server (SQLite in WAL mode takes a second process).
 */
export async function startServer({ logFile } = {}) {
  const binary = findBinary();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'uslugi-e2e-'));
  // The simulated registries know one citizen per journey, answer within
  // a second or two and do not fail: the journeys are about the pages.
  const citizens = writeCitizens(dataDir, 400);
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      USLUGI_LIMITS__SENDS_PER_IP_PER_HOUR: '100000',
      USLUGI_LIMITS__SENDS_PER_CONTACT_PER_HOUR: '100000',
      // The whole suite comes from 127.0.0.1.
      USLUGI_LIMITS__SUBMISSIONS_PER_IP_PER_HOUR: '100000',
      USLUGI_PASSWORD_HASH__MEMORY_KIB: '1024',
      USLUGI_BASE_URL: baseUrl,
      USLUGI_LOG: process.env.USLUGI_LOG || 'info',
    };
    // USLUGI_BIN names the binary for run.sh, not a setting of it.
    for (const k of ['USLUGI_CONFIG', 'USLUGI_DATABASE_URL', 'USLUGI_LISTEN', 'USLUGI_DATA_DIR', 'USLUGI_BIN']) delete env[k];
    const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
    const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir,
      '--sim-citizens', citizens, '--sim-delay-ms', '800-2000', '--sim-failure-rate', '0',
      // The simulated post hands a letter over in 20 s, not two weeks: «в пути» after 2 s.
      '--post-delivery-s', String(POST_DELIVERY_S)];
    const child = spawn(binary, args, {
      env,
      stdio: ['ignore', out, out],
    });
    let exited = null;
    // Never outlive the test process, whatever happens to it.
    const killOnExit = () => child.kill('SIGKILL');
    process.on('exit', killOnExit);
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      process.off('exit', killOnExit);
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !exited) {
      try {
        const res = await fetch(`${baseUrl}/`, { redirect: 'manual' });
        if (res.status === 200) {
          await res.arrayBuffer();
          return {
            baseUrl,
            dataDir,
            binary,
            env,
            async stop() {
              if (!exited) {
                child.kill('SIGTERM');
                for (let i = 0; i < 50 && !exited; i++) await sleep(100);
                if (!exited) child.kill('SIGKILL');
              }
              if (!process.env.E2E_KEEP_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
            },
          };
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    if (!exited) child.kill('SIGKILL');
    lastError = new Error(`uslugi did not start on port ${port} (${exited ? `exited ${JSON.stringify(exited)}` : 'timeout'}); see ${logFile}`);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  throw lastError;
}
