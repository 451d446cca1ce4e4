// What a person sees: two people chatting through the Leptos page.

import { SERVER_GONE, connected, expect, send, test } from '../support/fixtures';

test('two people chat both ways, with the button and with Enter', async ({ openChat }) => {
  const ana = await openChat();
  const beto = await openChat();
  await connected(ana);
  await connected(beto);

  await send(ana, 'hola, soy Ana', 'button');
  for (const page of [ana, beto]) {
    await expect(page.locator('#listado-msjs .message__text')).toHaveText(['hola, soy Ana']);
  }
  await expect(ana.locator('#nuevo-msj')).toHaveValue('');
  await expect(ana.locator('#nuevo-msj')).toBeFocused();

  await send(beto, '¡hola Ana! aquí Beto', 'enter');
  for (const page of [ana, beto]) {
    await expect(page.locator('#listado-msjs .message__text')).toHaveText(['hola, soy Ana', '¡hola Ana! aquí Beto']);
  }
  await expect(beto.locator('#nuevo-msj')).toHaveValue('');
  await expect(beto.locator('#nuevo-msj')).toBeFocused();
});

test('empty and blank input is not sent', async ({ openChat }) => {
  const ana = await openChat();
  const beto = await openChat();
  await connected(ana);
  await connected(beto);

  await send(ana, '', 'enter');
  await send(ana, '   ', 'button');
  await send(ana, 'esto sí', 'enter');
  // Had the blank ones gone out, they would stand before this one.
  await expect(beto.locator('#listado-msjs .message__text')).toHaveText(['esto sí']);
  await expect(ana.locator('#listado-msjs .message__text')).toHaveText(['esto sí']);
});

test('markup in a message is shown as text and never runs', async ({ openChat }) => {
  const ana = await openChat();
  const beto = await openChat();
  let dialogs = 0;
  beto.on('dialog', async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  await connected(ana);
  await connected(beto);

  const attack = '<img src=x onerror=alert(1)>';
  await send(ana, attack);
  await expect(beto.locator('#listado-msjs .message__text')).toHaveText([attack]);
  await expect(beto.locator('#listado-msjs img')).toHaveCount(0);
  // Give a would-be onerror handler every chance to fire.
  await beto.waitForTimeout(500);
  expect(dialogs).toBe(0);
});

test('the newest message stays in view', async ({ openChat }) => {
  const ana = await openChat();
  await connected(ana);
  for (let n = 1; n <= 40; n++) await send(ana, `mensaje ${n}`);
  const last = ana.locator('#listado-msjs .message__text').last();
  await expect(last).toHaveText('mensaje 40');
  await expect(last).toBeInViewport();
});

test.describe('when the server goes away', () => {
  test.use({ allowConsoleErrors: SERVER_GONE });

  test('the page says so, reconnects when it is back, and chat works again', async ({ server, openChat }) => {
    const ana = await openChat();
    const beto = await openChat();
    await connected(ana);
    await connected(beto);
    await expect(ana.locator('#estado')).toContainText('Conectado');

    await server.stop();
    for (const page of [ana, beto]) {
      await expect(page.locator('#estado')).toHaveAttribute('data-state', 'disconnected');
      await expect(page.locator('#estado')).toContainText('reintentando');
    }

    const { ChatServer } = await import('../support/server');
    const again = await ChatServer.start({ port: server.port, database: server.database });
    try {
      // socket.io-client backs off up to 5 s between attempts.
      await expect(ana.locator('#estado')).toHaveAttribute('data-state', 'connected', { timeout: 20_000 });
      await expect(beto.locator('#estado')).toHaveAttribute('data-state', 'connected', { timeout: 20_000 });
      await send(beto, 'ya estamos de vuelta');
      await expect(ana.locator('#listado-msjs .message__text')).toHaveText(['ya estamos de vuelta']);
    } finally {
      await again.stop();
    }
  });
});

test('a chat in progress, on desktop and phone (screenshots)', async ({ openChat }, testInfo) => {
  const ana = await openChat();
  const beto = await openChat();
  await connected(ana);
  await connected(beto);
  await send(ana, '¡Hola! ¿Alguien por aquí?');
  await send(beto, 'Sí, aquí estoy 👋');
  await send(ana, 'Probando el chat en Rust: Leptos + socketioxide');
  await send(beto, '<b>esto no va en negrita</b>');
  await expect(ana.locator('#listado-msjs .message__text')).toHaveCount(4);
  // Two people named alike are still two people.
  await expect(ana.locator('#personas li')).toHaveCount(2);
  await expect(ana.locator('#en-linea')).toHaveText('2');
  await ana.screenshot({ path: testInfo.outputPath('chat-desktop.png') });
  await beto.setViewportSize({ width: 390, height: 720 });
  await expect(beto.locator('#listado-msjs .message__text')).toHaveCount(4);
  await beto.screenshot({ path: testInfo.outputPath('chat-phone.png') });
});
