// Playwright fixtures: a fresh server per test, and pages that fail the test on any console error.

import { test as base, expect, type BrowserContext, type BrowserContextOptions, type Page } from '@playwright/test';

type Cookie = Parameters<BrowserContext['addCookies']>[0][number];
import { ChatServer } from './server';

type ChatContextOptions = BrowserContextOptions & {
  /** The browser's clock reads this time (it still runs timers): for days other than today. */
  fixedTime?: Date;
  /** Prepares the context before its page opens (an init script that stubs a browser API). */
  init?: (context: BrowserContext) => Promise<void>;
};

type Fixtures = {
  server: ChatServer;
  /** Where pages are opened: the test's own server unless a test file points elsewhere. */
  siteUrl: string;
  /** Console errors that a test expects (matched against the message text), if any. */
  allowConsoleErrors: RegExp | undefined;
  /**
   * Opens a new browser context (a separate person, named `name` if given, with `cookies` set,
   * and any other context `options`: a time zone, a clock, a screen) with a page on `path`.
   */
  openChat: (path?: string, name?: string, cookies?: Cookie[], options?: ChatContextOptions) => Promise<Page>;
};

export const test = base.extend<Fixtures>({
  server: async ({}, use) => {
    const server = await ChatServer.start();
    await use(server);
    await server.stop();
  },

  siteUrl: async ({ server }, use) => use(server.url),

  // A tuple, because Playwright reads an array value as [value, options].
  allowConsoleErrors: [undefined, { option: true }],

  openChat: async ({ browser, siteUrl, allowConsoleErrors }, use) => {
    const contexts: BrowserContext[] = [];
    const errors: string[] = [];
    await use(async (path = '/', name?: string, cookies: Cookie[] = [], { fixedTime, init, ...options } = {}) => {
      const context = await browser.newContext(options);
      contexts.push(context);
      await context.addCookies(cookies);
      if (fixedTime) await context.clock.setFixedTime(fixedTime);
      if (init) await init(context);
      // Runs before every load of the context's pages: only the first may set the name.
      if (name) {
        await context.addInitScript((name) => {
          if (!localStorage.getItem('chat.nombre')) localStorage.setItem('chat.nombre', name);
        }, name);
      }
      const page = await context.newPage();
      watchConsole(page, errors, allowConsoleErrors);
      await page.goto(new URL(path, siteUrl).href);
      return page;
    });
    await Promise.all(contexts.map((context) => context.close()));
    expect(errors, 'console errors').toEqual([]);
  },
});

// What the browser reports, beyond our control, while it cannot reach the server: its failed
// reconnection attempts, and socket.io-client writing (a pong, a queued packet) to a websocket
// that closed in the same instant, which Chromium logs instead of throwing.
const UNREACHABLE = String.raw`WebSocket connection to .* failed|WebSocket is already in CLOSING or CLOSED state`;

/** Console errors to allow while the server is down. */
export const SERVER_GONE = new RegExp(`ERR_CONNECTION_REFUSED|${UNREACHABLE}`);

// engine.io-client gives its session up the moment the browser goes offline (its `offline`
// listener), closing the websocket it may be upgrading to, and the server closes that session
// at once; a long-poll or POST of it the browser had already sent can reach the server a moment
// later and be answered `400 Session ID unknown` (as engine.io answers it), which Chromium logs.
// Only a polling request that names its session, as the message's source says.
const ABANDONED_SESSION = String.raw`status of 400 \(Bad Request\) \(http://[^ ]*/socket\.io/\?EIO=4&transport=polling&[^ ]*sid=[^ ]*\)$`;

/** Console errors to allow while the browser itself is offline. */
export const BROWSER_OFFLINE = new RegExp(`ERR_INTERNET_DISCONNECTED|${UNREACHABLE}|${ABANDONED_SESSION}`);

export function watchConsole(page: Page, errors: string[], allowed?: RegExp): void {
  // `source`: what the message is about when it is not the page itself (a failed request's URL).
  const record = (text: string, source?: string) => {
    const line = source ? `${text} (${source})` : text;
    if (!allowed?.test(line)) errors.push(`${page.url()}: ${line}`);
  };
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      const source = message.location().url;
      record(message.text(), source && source !== page.url() ? source : undefined);
    }
  });
  page.on('pageerror', (error) => record(String(error)));
}

/** Waits until the page's socket is connected, as shown to the user. */
export async function connected(page: Page): Promise<void> {
  await expect(page.locator('#estado')).toHaveAttribute('data-state', 'connected');
}

/** Types `text` and sends it with Enter or the button. */
export async function send(page: Page, text: string, how: 'enter' | 'button' = 'enter'): Promise<void> {
  await page.locator('#nuevo-msj').fill(text);
  if (how === 'enter') await page.locator('#nuevo-msj').press('Enter');
  else await page.locator('#btn-msj').click();
}

export { expect };
