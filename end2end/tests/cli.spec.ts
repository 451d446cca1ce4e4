// The terminal client (`sala`, cli/) and the page in one room: what one says the other shows.

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { connected, expect, send, test } from '../support/fixtures';
import { repoRoot } from '../support/server';

const sala = process.env.SALA_BIN ?? path.join(repoRoot, 'target/release/sala');

/** `sala`'s environment: the test's server, and a profile of its own. */
function env(url: string): NodeJS.ProcessEnv {
  const profile = mkdtempSync(path.join(tmpdir(), 'sala-profile-'));
  return { ...process.env, SALA_URL: url, SALA_CONFIG_DIR: profile, SALA_NAME: 'Terminal' };
}

test('a message sent from the terminal appears in the page', async ({ server, openChat }) => {
  const page = await openChat('/', 'Ana');
  await connected(page);
  const { stdout } = await promisify(execFile)(sala, ['send', 'hola desde la terminal'], { env: env(server.url) });
  expect(Number(stdout.trim())).toBeGreaterThan(0);
  const message = page.locator('#listado-msjs li').last();
  await expect(message.locator('.message__text')).toHaveText('hola desde la terminal');
  await expect(message.locator('.message__user')).toHaveText('Terminal');
});

test('a message sent from the page appears in `sala tail --json`', async ({ server, openChat }) => {
  const tail = spawn(sala, ['tail', '--json'], { env: env(server.url), stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const printed: { text: string; user: string; id: number }[] = [];
    readline.createInterface({ input: tail.stdout! }).on('line', (line) => printed.push(JSON.parse(line)));
    const page = await openChat('/', 'Ana');
    await connected(page);
    await send(page, 'hola, terminal');
    await expect.poll(() => printed.map((m) => [m.user, m.text])).toEqual([['Ana', 'hola, terminal']]);
    await send(page, 'segundo');
    await expect.poll(() => printed.map((m) => m.text)).toEqual(['hola, terminal', 'segundo']);
    expect(printed[1].id).toBeGreaterThan(printed[0].id);
  } finally {
    tail.kill();
  }
});
