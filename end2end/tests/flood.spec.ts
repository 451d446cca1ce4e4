// Flood control as a person meets it: sending faster than the server allows shows why the
// message did not go, and the messages within the limit went through; going on regardless cuts
// the page off, says why, and it comes back by itself after a pause. And other people's comings
// and goings never hold up the page's own messages.

import { once } from 'node:events';
import type { Browser, Page } from '@playwright/test';
import { io } from 'socket.io-client';
import { connected, expect, send, test, watchConsole } from '../support/fixtures';
import { ChatServer } from '../support/server';

/**
 * Runs `use` with a connected page of a server started with `args`; stops both afterwards and
 * fails on any console error of the pages `use` watches through `errors`.
 */
async function onServer(
  browser: Browser,
  args: string[],
  use: (page: Page, server: ChatServer, errors: string[]) => Promise<void>,
) {
  const server = await ChatServer.start({ args });
  const context = await browser.newContext();
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    watchConsole(page, errors);
    await page.goto(server.url);
    await connected(page);
    await use(page, server, errors);
  } finally {
    await context.close();
    await server.stop();
  }
  expect(errors, 'console errors').toEqual([]);
}

test('a person who sends too fast is told so, and what went before is delivered', async ({ browser }) => {
  // A burst of 3, then one message every 10 s: the 4th and 5th of a quick run are refused.
  await onServer(browser, ['--message-burst', '3', '--messages-per-second', '0.1'], async (page, server, errors) => {
    for (let n = 1; n <= 5; n++) await send(page, `rápido ${n}`);

    await expect(page.locator('#aviso')).toHaveText('Vas demasiado rápido: espera un momento.');
    const messages = page.locator('#listado-msjs .message');
    await expect(messages).toHaveCount(5);
    await expect(page.locator('#listado-msjs .message--failed .message__text')).toHaveText(['rápido 4', 'rápido 5']);
    await page.screenshot({ path: test.info().outputPath('flood.png'), fullPage: true });

    // Another person sees only what was accepted.
    const other = await browser.newContext();
    const reader = await other.newPage();
    watchConsole(reader, errors);
    await reader.goto(server.url);
    await expect(reader.locator('#listado-msjs .message__text')).toHaveText(['rápido 1', 'rápido 2', 'rápido 3']);
    await other.close();
  });
});

test('a person cut off for flooding is told why and comes back after the cool-down', async ({ browser }) => {
  // A burst of 2; the 3rd refusal in a row cuts the connection off, and the address may not
  // come back for 2 s (the page waits 10 s, the server's default).
  const args = [
    '--message-burst', '2', '--messages-per-second', '0.1',
    '--flood-disconnect-after', '3', '--flood-cooldown-seconds', '2',
  ];
  await onServer(browser, args, async (page) => {
    for (let n = 1; n <= 5; n++) await send(page, `sin parar ${n}`);

    const notice = page.locator('#aviso');
    await expect(notice).toHaveText(
      'Te hemos desconectado por enviar demasiados mensajes seguidos: vuelves en unos segundos.',
    );
    await expect(page.locator('#estado')).toHaveAttribute('data-state', 'disconnected');
    await page.screenshot({ path: test.info().outputPath('cut-off.png'), fullPage: true });

    await expect(page.locator('#estado')).toHaveAttribute('data-state', 'connected', { timeout: 15_000 });
    await expect(notice).not.toHaveText(/desconectado/);
    await send(page, 'con calma');
    await expect(page.locator('#listado-msjs .message:not(.message--failed) .message__text').last())
      .toHaveText('con calma');
  });
});

test('people coming and going never hold up a message: the room list is asked outside the queue, once per burst', async ({ openChat, server }) => {
  const page = await openChat('/', 'Ana');
  await connected(page);
  // The page's websocket through here, with its room-list questions counted and never answered
  // (a server too busy to answer, or one refusing them).
  let upgraded: () => void;
  const ready = new Promise<void>((resolve) => (upgraded = resolve));
  let roomQuestions = 0;
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const toServer = ws.connectToServer();
    ws.onMessage((frame) => {
      if (typeof frame === 'string' && /^42\d*\["rooms"/.test(frame)) {
        roomQuestions += 1;
        return;
      }
      toServer.send(frame);
      if (frame === '5') upgraded();
    });
    toServer.onMessage((frame) => ws.send(frame));
  });
  await page.reload();
  await connected(page);
  await ready;
  const before = roomQuestions;

  // Ten people arrive and leave at once: twenty notices on the page.
  const churn = Array.from({ length: 10 }, () => io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false }));
  await Promise.all(churn.map((socket) => once(socket, 'connect')));
  churn.forEach((socket) => socket.close());
  await expect(page.locator('#listado-msjs .notice-line')).toHaveCount(20);

  await send(page, 'no me hagáis esperar');
  await expect(page.locator('#listado-msjs .message__text')).toHaveText(['no me hagáis esperar']);
  await expect(page.locator('#listado-msjs .message--pending')).toHaveCount(0);
  await expect(page.locator('#listado-msjs .message--failed')).toHaveCount(0);
  // A burst of arrivals and departures is one question (asked again twice at most when it goes
  // unanswered, as here), not twenty; the question on connecting may still be asking too.
  await expect.poll(() => roomQuestions - before, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
  expect(roomQuestions - before).toBeLessThanOrEqual(6);
});
