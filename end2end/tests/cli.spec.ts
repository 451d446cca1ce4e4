// The terminal client (`sala`, cli/) and the page in one room: what one says the other shows.

import { connected, expect, send, test } from '../support/fixtures';
import { SalaTail, salaEnv, salaSend } from '../support/sala';

test('a message sent from the terminal appears in the page', async ({ server, openChat }) => {
  const page = await openChat('/', 'Ana');
  await connected(page);
  const id = await salaSend(salaEnv(server.url), 'hola desde la terminal');
  expect(id).toBeGreaterThan(0);
  // The last message (the page also notes Terminal arriving and leaving).
  const message = page.locator('#listado-msjs li', { has: page.locator('.message__text') }).last();
  await expect(message.locator('.message__text')).toHaveText('hola desde la terminal');
  await expect(message.locator('.message__user')).toHaveText('Terminal');
});

test('a message sent from the page appears in `sala tail --json`', async ({ server, openChat }) => {
  const tail = new SalaTail(salaEnv(server.url));
  try {
    const page = await openChat('/', 'Ana');
    await connected(page);
    await send(page, 'hola, terminal');
    await expect.poll(() => tail.printed.map((m) => [m.user, m.text])).toEqual([['Ana', 'hola, terminal']]);
    await send(page, 'segundo');
    await expect.poll(() => tail.texts()).toEqual(['hola, terminal', 'segundo']);
    expect(tail.printed[1].id).toBeGreaterThan(tail.printed[0].id);
  } finally {
    tail.stop();
  }
});
