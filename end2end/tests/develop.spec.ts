// Developing with `cargo leptos watch`: the page it serves carries Leptos's reload script, which
// connects to the reload server on its own port; the page's Content-Security-Policy must let it,
// and only it, while production pages keep `connect-src 'self'` (server/tests/page.rs).

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { connected, expect, test, watchConsole } from '../support/fixtures';
import { ChatServer } from '../support/server';

test('under cargo leptos watch the page reaches its reload server, with no console error', async ({ browser }) => {
  // Where cargo-leptos's reload server would be: something to connect to, and to count on.
  const reloadServer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(reloadServer, 'listening');
  const reloadPort = (reloadServer.address() as AddressInfo).port;
  const reached = new Promise<string | undefined>((resolve) =>
    reloadServer.on('connection', (_socket, request) => resolve(request.url)),
  );
  // As `cargo leptos watch` starts the server: LEPTOS_WATCH set, the reload port given.
  const server = await ChatServer.start({ env: { LEPTOS_WATCH: 'ON', LEPTOS_RELOAD_PORT: String(reloadPort) } });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    watchConsole(page, errors);
    const response = await page.goto(server.url);
    const policy = response?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain(`connect-src 'self' ws://127.0.0.1:${reloadPort} wss://127.0.0.1:${reloadPort};`);
    expect(await reached).toBe('/live_reload');
    await connected(page);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
    await server.stop();
    reloadServer.close();
  }
});

test('without watch the policy allows the page’s own origin only', async ({ page, server }) => {
  const response = await page.goto(server.url);
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("connect-src 'self';");
  expect(await page.locator('script:not([src])').evaluateAll((scripts) => scripts.some((s) => s.textContent?.includes('live_reload')))).toBe(false);
});
