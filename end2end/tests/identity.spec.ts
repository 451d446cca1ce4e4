// Who is who on the page: the server's identity decides what is "mine", two people who chose
// one name are told apart, and nothing of another room ever shows.

import { connected, expect, send, test } from '../support/fixtures';

const mine = (page: import('@playwright/test').Page) =>
  page.locator('#listado-msjs .message--mine .message__text');

test('my messages are mine from every tab and after a reload; two Anas are told apart', async ({ openChat }) => {
  const ana = await openChat('/', 'Ana');
  await connected(ana);
  // A second tab of the same browser: the same person.
  const secondTab = await ana.context().newPage();
  await secondTab.goto(ana.url());
  await connected(secondTab);

  await send(ana, 'desde la primera pestaña');
  await expect(mine(secondTab)).toHaveText(['desde la primera pestaña']);

  // Somebody else who chose the same name is not her, and both show the start of their id.
  const otherAna = await openChat('/', 'Ana');
  await connected(otherAna);
  await send(otherAna, 'soy otra Ana');
  await expect(ana.locator('#listado-msjs .message__text')).toHaveText(['desde la primera pestaña', 'soy otra Ana']);
  await expect(mine(ana)).toHaveText(['desde la primera pestaña']);
  await expect(mine(otherAna)).toHaveText(['soy otra Ana']);
  const tags = ana.locator('#listado-msjs .message__tag');
  await expect(tags).toHaveCount(2);
  await expect(tags).toHaveText([/^#\S{4}$/, /^#\S{4}$/]);
  expect(await tags.nth(0).textContent()).not.toBe(await tags.nth(1).textContent());
  await expect(ana.locator('#personas li')).toHaveText([/^Ana\s*#\S{4}$/, /^Ana\s*#\S{4}$/]);

  // The browser keeps its identity: after a reload her message is still hers.
  await ana.reload();
  await connected(ana);
  await expect(mine(ana)).toHaveText(['desde la primera pestaña']);
  await secondTab.close();
});

test('a message or notice of another room never shows, whatever arrives on the socket', async ({ openChat }) => {
  const page = await openChat('/', 'Ana');
  await connected(page);
  // From now on the page's websocket passes through here, and a forged frame can be slipped in
  // (as a compromised or misbehaving server or proxy could).
  let upgraded: () => void;
  const ready = new Promise<void>((resolve) => (upgraded = resolve));
  let toPage: (frame: string) => void = () => {};
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((frame) => {
      server.send(frame);
      // Engine.IO's upgrade packet: the websocket carries the session from here on.
      if (frame === '5') upgraded();
    });
    server.onMessage((frame) => ws.send(frame));
    toPage = (frame) => ws.send(frame);
  });
  await page.reload();
  await connected(page);
  await ready;

  const at = new Date().toISOString();
  const forged = (room: string, id: number, text: string) =>
    `42${JSON.stringify(['nuevo mensaje', text, { id, user: 'Mallory', person: 'p-mallory', room, at }])}`;
  toPage(forged('otra', 900_001, 'de otra sala'));
  toPage(`42${JSON.stringify(['history', [{ text: 'repetido de otra sala', id: 900_002, user: 'Mallory', person: 'p-mallory', room: 'otra', at }]])}`);
  toPage(forged('general', 900_003, 'de esta sala'));
  // The last one shows: the two before it were dropped, not merely late.
  await expect(page.locator('#listado-msjs .message__text')).toHaveText(['de esta sala']);

  // Nor does another room's presence list or "stop typing" change what this page shows.
  const about = (event: string, room: string, user: string, person: string) =>
    `42${JSON.stringify([event, { user, person, room }])}`;
  toPage(about('typing', 'general', 'Beto', 'p-beto'));
  await expect(page.locator('#escribiendo')).toHaveText('Beto está escribiendo…');
  toPage(about('stop typing', 'otra', 'Beto', 'p-beto'));
  toPage(`42${JSON.stringify(['presence', { room: 'otra', users: [{ person: 'p-mallory', name: 'Mallory' }], online: 1 }])}`);
  toPage(about('user joined', 'general', 'Carla', 'p-carla'));
  await expect(page.locator('#personas li')).toHaveText(['Ana', 'Carla']);
  await expect(page.locator('#escribiendo')).toHaveText('Beto está escribiendo…');
});
