// Screenshots of the chat for looking at a change and for the README:
//   node end2end/screenshot.mjs http://127.0.0.1:3000 /tmp/shots
// writes desktop and 360 px phone pictures, light and dark, of a short conversation it has
// with itself on that server (loopback only: it talks to nothing else). Start the server with
// flood control off (`CHAT_MESSAGE_BURST=0 CHAT_ADDRESS_MESSAGE_BURST=0`) or it refuses the
// quick messages.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';

const [url = 'http://127.0.0.1:3000', out = 'screenshots'] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});

async function person(name, options = {}) {
  const context = await browser.newContext({ timezoneId: 'Europe/Madrid', ...options });
  await context.addInitScript((name) => localStorage.setItem('chat.nombre', name), name);
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('#estado[data-state="connected"]').waitFor();
  return page;
}

async function say(page, text) {
  await page.locator('#nuevo-msj').fill(text);
  await page.locator('#nuevo-msj').press('Enter');
  await page.waitForTimeout(150);
}

const ana = await person('Ana');
const beto = await person('Beto');
await say(ana, '¡Hola! ¿Quedamos para revisar el informe?');
await say(ana, 'Lo dejé aquí: https://example.com/informe');
await say(beto, '@Ana claro, a las cinco me va bien.');
await say(beto, 'Llevo el resumen:\n– cifras del trimestre\n– próximos pasos');
await say(ana, 'Perfecto, nos vemos allí.');
await say(ana, 'Uy, me equivoqué de sala');

// Ana fixes one message and takes another back, as people do.
async function change(page, message, button) {
  await message.hover();
  await message.locator('.message__action', { hasText: button }).click();
}
const anas = ana.locator('#listado-msjs .message--mine');
await change(ana, anas.nth(2), 'Editar');
await ana.locator('.message__edit-input').fill('Perfecto, nos vemos a las cinco.');
await ana.locator('.message__edit-input').press('Enter');
ana.once('dialog', (dialog) => dialog.accept());
await change(ana, anas.nth(3), 'Eliminar');
await ana.waitForTimeout(300);

// Beto's page: his own messages on the right, Ana's (and the mention of him) on the left.
await say(ana, '@Beto ¿traes también las gráficas?');
for (const [device, viewport] of [
  ['desktop', { width: 1100, height: 720 }],
  ['phone', { width: 360, height: 740 }],
]) {
  for (const colorScheme of ['light', 'dark']) {
    await beto.setViewportSize(viewport);
    await beto.emulateMedia({ colorScheme });
    // Loaded at this size, as a phone would (the sidebar folds away on narrow screens).
    await beto.reload();
    await beto.locator('#estado[data-state="connected"]').waitFor();
    await beto.locator('#nuevo-msj').fill('Sí, las llevo');
    await beto.waitForTimeout(300);
    const file = path.join(out, `chat-${device}-${colorScheme}.png`);
    await beto.screenshot({ path: file });
    console.log(file);
    // One of Beto's own messages, pointed at, then being edited.
    const own = beto.locator('#listado-msjs .message--mine').last();
    await own.hover();
    const actions = path.join(out, `chat-${device}-${colorScheme}-acciones.png`);
    await beto.screenshot({ path: actions });
    console.log(actions);
    await own.locator('.message__action', { hasText: 'Editar' }).click();
    const editing = path.join(out, `chat-${device}-${colorScheme}-editando.png`);
    await beto.screenshot({ path: editing });
    console.log(editing);
    await beto.keyboard.press('Escape');
  }
}
await browser.close();
