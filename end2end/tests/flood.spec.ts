// Flood control as a person meets it: sending faster than the server allows shows why the
// message did not go, and the messages within the limit went through.

import { connected, expect, send, test, watchConsole } from '../support/fixtures';
import { ChatServer } from '../support/server';

test('a person who sends too fast is told so, and what went before is delivered', async ({ browser }) => {
  // A burst of 3, then one message every 10 s: the 4th and 5th of a quick run are refused.
  const server = await ChatServer.start({ args: ['--message-burst', '3', '--messages-per-second', '0.1'] });
  const context = await browser.newContext();
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    watchConsole(page, errors);
    await page.goto(server.url);
    await connected(page);
    for (let n = 1; n <= 5; n++) await send(page, `rápido ${n}`);

    await expect(page.locator('#aviso')).toHaveText('Vas demasiado rápido: espera un momento.');
    const messages = page.locator('#listado-msjs .message');
    await expect(messages).toHaveCount(5);
    await expect(page.locator('#listado-msjs .message--failed .message__text')).toHaveText(['rápido 4', 'rápido 5']);
    await page.screenshot({ path: test.info().outputPath('flood.png'), fullPage: true });

    // Another person sees only what was accepted.
    const other = await context.browser()!.newContext();
    const reader = await other.newPage();
    watchConsole(reader, errors);
    await reader.goto(server.url);
    await expect(reader.locator('#listado-msjs .message__text')).toHaveText(['rápido 1', 'rápido 2', 'rápido 3']);
    await other.close();
  } finally {
    await context.close();
    await server.stop();
  }
  expect(errors, 'console errors').toEqual([]);
});
