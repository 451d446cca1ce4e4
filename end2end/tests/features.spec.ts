// Names, presence, typing, rooms and delivery, as the people using the chat see them.

import { BROWSER_OFFLINE, SERVER_GONE, connected, expect, send, test } from '../support/fixtures';

const texts = (page: import('@playwright/test').Page) => page.locator('#listado-msjs .message__text');

test('each message shows who sent it, and a name can be changed', async ({ openChat }) => {
  const ana = await openChat('/', 'Ana');
  const beto = await openChat('/', 'Beto');
  await connected(ana);
  await connected(beto);
  await expect(ana.locator('#nombre')).toHaveValue('Ana');

  await send(ana, 'hola, soy Ana');
  const seen = beto.locator('#listado-msjs .message').last();
  await expect(seen.locator('.message__user')).toHaveText('Ana');
  await expect(seen.locator('.message__text')).toHaveText('hola, soy Ana');
  await expect(ana.locator('#listado-msjs .message--mine .message__text')).toHaveText(['hola, soy Ana']);

  await ana.locator('#nombre').fill('Anita');
  await ana.locator('#nombre').press('Enter');
  await connected(ana);
  await send(ana, 'ahora me llamo Anita');
  await expect(beto.locator('#listado-msjs .message').last().locator('.message__user')).toHaveText('Anita');
  // The new name is remembered by the browser.
  await ana.reload();
  await expect(ana.locator('#nombre')).toHaveValue('Anita');
});

test('presence: who is here, who arrives, who leaves', async ({ openChat }) => {
  const beto = await openChat('/', 'Beto');
  await connected(beto);
  await expect(beto.locator('#personas li')).toHaveText(['Beto']);

  const ana = await openChat('/', 'Ana');
  await connected(ana);
  await expect(beto.locator('#listado-msjs .notice-line')).toHaveText(['Ana se ha unido']);
  await expect(beto.locator('#personas li')).toHaveText(['Ana', 'Beto']);
  await expect(beto.locator('#en-linea')).toHaveText('2');
  await expect(ana.locator('#personas li')).toHaveText(['Ana', 'Beto']);

  await ana.close();
  await expect(beto.locator('#listado-msjs .notice-line')).toHaveText(['Ana se ha unido', 'Ana ha salido']);
  await expect(beto.locator('#personas li')).toHaveText(['Beto']);
});

test('typing shows in the other page and clears on send', async ({ openChat }) => {
  const ana = await openChat('/', 'Ana');
  const beto = await openChat('/', 'Beto');
  await connected(ana);
  await connected(beto);

  await ana.locator('#nuevo-msj').pressSequentially('estoy escribiendo');
  await expect(beto.locator('#escribiendo')).toHaveText('Ana está escribiendo…');
  await expect(ana.locator('#escribiendo')).toHaveText('');
  await ana.locator('#nuevo-msj').press('Enter');
  await expect(beto.locator('#escribiendo')).toHaveText('');
  await expect(texts(beto)).toHaveText(['estoy escribiendo']);
});

test('rooms are separate and listed', async ({ openChat }) => {
  const ana = await openChat('/sala/rust', 'Ana');
  const beto = await openChat('/', 'Beto');
  await connected(ana);
  await connected(beto);
  await expect(ana.locator('h1')).toHaveText('#rust');

  await send(ana, 'solo para #rust');
  await send(beto, 'solo para #general');
  await expect(texts(ana)).toHaveText(['solo para #rust']);
  await expect(texts(beto)).toHaveText(['solo para #general']);

  await expect(beto.locator('#salas a')).toHaveText([/#general\s*1/, /#rust\s*1/]);
  await beto.locator('#salas a', { hasText: '#rust' }).click();
  await expect(beto).toHaveURL(/\/sala\/rust$/);
  await connected(beto);
  await expect(beto.locator('#personas li')).toHaveText(['Ana', 'Beto']);
});

test('an invalid room address is not found', async ({ server, page }) => {
  const response = await page.goto(`${server.url}/sala/No%20Vale`);
  expect(response?.status()).toBe(404);
});

test.describe('offline', () => {
  test.use({ allowConsoleErrors: BROWSER_OFFLINE });

  test('messages sent offline go out on reconnect, once and in order', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto');
    await connected(ana);
    await connected(beto);

    await ana.context().setOffline(true);
    await expect(ana.locator('#estado')).toHaveAttribute('data-state', 'disconnected', { timeout: 30_000 });
    await send(ana, 'primero sin conexión');
    await send(ana, 'segundo sin conexión');
    await expect(ana.locator('#listado-msjs .message--pending')).toHaveCount(2);
    await expect(texts(beto)).toHaveText([]);

    await ana.context().setOffline(false);
    await expect(texts(beto)).toHaveText(['primero sin conexión', 'segundo sin conexión'], { timeout: 30_000 });
    await expect(ana.locator('#listado-msjs .message--pending')).toHaveCount(0);
    await expect(texts(ana)).toHaveText(['primero sin conexión', 'segundo sin conexión']);
    // Nothing doubled a while later either.
    await beto.waitForTimeout(1_000);
    await expect(texts(beto)).toHaveCount(2);
  });

  test('back after a long absence: the newest at once, the rest on scrolling back', async ({ openChat, server }) => {
    const ana = await openChat('/', 'Ana');
    await connected(ana);
    await send(ana, 'antes de irme');
    await expect(ana.locator('#listado-msjs .message--pending')).toHaveCount(0);
    await ana.context().setOffline(true);
    await expect(ana.locator('#estado')).toHaveAttribute('data-state', 'disconnected', { timeout: 30_000 });

    // 260 messages while she is away: more than a replay carries (200).
    const { io } = await import('socket.io-client');
    const writer = io(server.url, { transports: ['websocket'], forceNew: true });
    for (let n = 1; n <= 260; n++) {
      if (n % 100 === 0 || n === 260) await writer.emitWithAck('nuevo mensaje', `ausente ${n}`);
      else writer.emit('nuevo mensaje', `ausente ${n}`);
    }
    writer.close();

    await ana.context().setOffline(false);
    await connected(ana);
    await expect(texts(ana)).toHaveCount(200);
    await expect(texts(ana).first()).toHaveText('ausente 61');
    await expect(texts(ana).last()).toHaveText('ausente 260');
    const all = ['antes de irme', ...Array.from({ length: 260 }, (_, n) => `ausente ${n + 1}`)];
    await expect
      .poll(async () => {
        await ana.locator('#listado-msjs').evaluate((list) => list.scrollTo(0, 0));
        return texts(ana).count();
      })
      .toBe(all.length);
    await expect(texts(ana)).toHaveText(all);
  });
});

test.describe('a server that allows shorter messages than the page knows of', () => {
  // The page stops what is over the default limit before sending it; a server configured lower
  // is the refusal it cannot foresee.
  test.use({
    siteUrl: async ({}, use) => {
      const { ChatServer } = await import('../support/server');
      const strict = await ChatServer.start({ args: ['--max-message-chars', '10'] });
      await use(strict.url);
      await strict.stop();
    },
  });

  test('a refused message is marked as not sent, with a retry button', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    await connected(ana);
    await send(ana, 'más de diez caracteres');
    const failed = ana.locator('#listado-msjs .message--failed');
    await expect(failed).toHaveCount(1);
    await expect(failed.locator('.message__state')).toHaveText('no enviado');
    await expect(ana.locator('#aviso')).toHaveText('El mensaje es demasiado largo.');
    // Retrying sends the same message again; the server refuses it again, and says so again.
    await failed.getByRole('button', { name: 'Reintentar' }).click();
    await expect(ana.locator('#listado-msjs .message--failed')).toHaveCount(1);
    await expect(ana.locator('#listado-msjs .message--pending')).toHaveCount(0);
  });
});

test('a refresh shows the history, and nothing twice', async ({ openChat }) => {
  const ana = await openChat('/', 'Ana');
  await connected(ana);
  for (const text of ['uno', 'dos', 'tres']) await send(ana, text);
  await expect(ana.locator('#listado-msjs .message--pending')).toHaveCount(0);

  await ana.reload();
  await expect(texts(ana)).toHaveText(['uno', 'dos', 'tres']);
  await connected(ana);
  await send(ana, 'cuatro');
  await expect(texts(ana)).toHaveText(['uno', 'dos', 'tres', 'cuatro']);
});

test('older messages load when scrolling up', async ({ server, openChat }) => {
  const { io } = await import('socket.io-client');
  const writer = io(server.url, { transports: ['websocket'], forceNew: true });
  for (let n = 1; n <= 120; n++) await writer.emitWithAck('nuevo mensaje', `antiguo ${n}`);
  writer.close();

  const ana = await openChat('/', 'Ana');
  await expect(texts(ana)).toHaveCount(50);
  await expect(texts(ana).first()).toHaveText('antiguo 71');
  await connected(ana);
  await ana.locator('#listado-msjs').evaluate((list) => list.scrollTo(0, 0));
  await expect(texts(ana)).toHaveCount(100);
  await ana.locator('#listado-msjs').evaluate((list) => list.scrollTo(0, 0));
  await expect(texts(ana)).toHaveCount(120);
  await expect(texts(ana).first()).toHaveText('antiguo 1');
});

test.describe('across a server restart', () => {
  test.use({ allowConsoleErrors: SERVER_GONE });

  test('no message is lost', async ({ server, openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto');
    await connected(ana);
    await connected(beto);
    await send(ana, 'antes del reinicio');
    await expect(texts(beto)).toHaveText(['antes del reinicio']);

    await server.stop();
    await expect(beto.locator('#estado')).toHaveAttribute('data-state', 'disconnected');
    // Written while the server is down: queued, then sent once it is back.
    await send(ana, 'durante el reinicio');
    const { ChatServer } = await import('../support/server');
    const again = await ChatServer.start({ port: server.port, database: server.database });
    try {
      await expect(texts(beto)).toHaveText(['antes del reinicio', 'durante el reinicio'], { timeout: 20_000 });
      await expect(texts(ana)).toHaveText(['antes del reinicio', 'durante el reinicio']);
      await expect(ana.locator('#listado-msjs .message--pending')).toHaveCount(0);
    } finally {
      await again.stop();
    }
  });
});

test('without JavaScript the page shows the history and still sends', async ({ browser, server, openChat }) => {
  const beto = await openChat('/', 'Beto');
  await connected(beto);
  await send(beto, 'hola a quien lea sin JavaScript');

  const context = await browser.newContext({ javaScriptEnabled: false });
  const plain = await context.newPage();
  await plain.goto(server.url);
  await expect(texts(plain)).toHaveText(['hola a quien lea sin JavaScript']);
  await plain.locator('#nuevo-msj').fill('respondo sin JavaScript');
  await plain.locator('#btn-msj').click();
  await expect(plain).toHaveURL(new RegExp(`^${server.url}/\\??$`));
  await expect(texts(plain)).toHaveText(['hola a quien lea sin JavaScript', 'respondo sin JavaScript']);
  await expect(texts(beto)).toHaveText(['hola a quien lea sin JavaScript', 'respondo sin JavaScript']);
  await context.close();
});
