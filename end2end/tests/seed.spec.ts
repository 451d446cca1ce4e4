// The seed's own chat.html, unchanged, talks to the Rust server and to the Leptos page.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connected, expect, send, test, watchConsole } from '../support/fixtures';
import { ChatServer, repoRoot } from '../support/server';

const jquery = path.join(repoRoot, 'end2end/node_modules/jquery/dist/jquery.js');

test("the seed's chat.html and the Leptos page exchange messages", async ({ browser }) => {
  // The Rust server itself serves chat.html, as express did, from a copy of the built site with
  // the seed's page added; jQuery comes from npm, because this machine reaches no CDN.
  const siteRoot = mkdtempSync(path.join(tmpdir(), 'chat-seed-'));
  cpSync(path.join(repoRoot, 'target/site'), siteRoot, { recursive: true });
  cpSync(path.join(repoRoot, 'end2end/fixtures/chat.html'), path.join(siteRoot, 'chat.html'));
  const server = await ChatServer.start({ args: ['--site-root', siteRoot] });
  const context = await browser.newContext();
  const errors: string[] = [];
  try {
    await context.route('http://code.jquery.com/jquery-1.11.1.js', (route) => route.fulfill({ path: jquery }));
    const seed = await context.newPage();
    watchConsole(seed, errors);
    await seed.goto(`${server.url}/chat.html`);

    const leptos = await context.newPage();
    watchConsole(leptos, errors);
    await leptos.goto(server.url);
    await connected(leptos);
    // The seed page shows no connection state: ask its socket.
    await expect.poll(() => seed.evaluate(() => (window as any).socket.connected)).toBe(true);

    await seed.locator('#nuevo-msj').fill('hola desde la página original');
    await seed.locator('#btn-msj').click();
    await expect(leptos.locator('#listado-msjs .message__text')).toHaveText(['hola desde la página original']);
    await expect(seed.locator('#listado-msjs li')).toHaveText(['hola desde la página original']);
    await expect(seed.locator('#nuevo-msj')).toHaveValue('');

    await send(leptos, 'y esto desde Leptos');
    await expect(seed.locator('#listado-msjs li')).toHaveText([
      'hola desde la página original',
      'y esto desde Leptos',
    ]);
  } finally {
    await context.close();
    await server.stop();
    rmSync(siteRoot, { recursive: true, force: true });
  }
  expect(errors, 'console errors').toEqual([]);
});
