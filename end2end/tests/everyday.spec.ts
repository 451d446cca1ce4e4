// What a chat kept open all day needs: local times and days, grouping, links, mentions, a
// multi-line composer, unread counts, readable colours.

import AxeBuilder from '@axe-core/playwright';
import { once } from 'node:events';
import { io } from 'socket.io-client';
import type { Locator, Page } from '@playwright/test';
import { BROWSER_OFFLINE, connected, expect, send, test } from '../support/fixtures';

const DAY_MS = 24 * 60 * 60 * 1000;
const texts = (page: Page) => page.locator('#listado-msjs .message__text');
const lastMessage = (page: Page) => page.locator('#listado-msjs .message').last();

/** What the page should write for `iso` in `timeZone`, by Node's own Intl (not the page's code). */
function expected(iso: string, timeZone: string) {
  const at = new Date(iso);
  const format = (options: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('es', { timeZone, ...options }).format(at);
  return {
    clock: format({ hour: '2-digit', minute: '2-digit' }),
    full: format({ dateStyle: 'full', timeStyle: 'medium' }),
  };
}

test.describe('times', () => {
  test('each reader sees the local time, the full date on hover, and no UTC', async ({ openChat }) => {
    const madrid = await openChat('/', 'Ana', [], { timezoneId: 'Europe/Madrid' });
    const mexico = await openChat('/', 'Beto', [], { timezoneId: 'America/Mexico_City' });
    await connected(madrid);
    await connected(mexico);
    await send(madrid, 'qué hora es');

    for (const [page, zone] of [
      [madrid, 'Europe/Madrid'],
      [mexico, 'America/Mexico_City'],
    ] as const) {
      const time = lastMessage(page).locator('time');
      await expect(time).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      const iso = (await time.getAttribute('datetime'))!;
      await expect(time).toHaveText(expected(iso, zone).clock);
      await expect(time).toHaveAttribute('title', expected(iso, zone).full);
      await expect(page.locator('.day-separator')).toHaveText(['Hoy']);
    }
    // Six or seven hours apart: the two pages really show different times.
    expect(await lastMessage(madrid).locator('time').textContent()).not.toEqual(
      await lastMessage(mexico).locator('time').textContent(),
    );

    // The server renders the history without knowing the zone: after a reload the page still
    // shows local times, with no hydration error (the fixture fails on any console error) and
    // no UTC time on screen.
    await mexico.reload();
    const time = lastMessage(mexico).locator('time');
    const iso = (await time.getAttribute('datetime'))!;
    await expect(time).toHaveText(expected(iso, 'America/Mexico_City').clock);
    await expect(mexico.locator('.message__utc')).toHaveCount(0);
  });

  test('the server-rendered HTML carries the instant, and UTC only for readers without JavaScript', async ({
    browser,
    server,
    openChat,
  }) => {
    const ana = await openChat('/', 'Ana');
    await connected(ana);
    await send(ana, 'para quien lee sin JavaScript');
    await expect(lastMessage(ana)).not.toHaveClass(/message--pending/);

    const html = await (await fetch(server.url)).text();
    expect(html).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[^"]+Z" class="message__time">/);

    const context = await browser.newContext({ javaScriptEnabled: false, timezoneId: 'Asia/Tokyo' });
    const plain = await context.newPage();
    await plain.goto(server.url);
    await expect(plain.locator('.message__utc')).toBeVisible();
    await expect(plain.locator('.message__utc')).toHaveText(/^\d\d:\d\d UTC$/);
    await context.close();
  });

  test('day separators: «Hoy», «Ayer», then the day written out', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana', [], { timezoneId: 'Europe/Madrid' });
    await connected(ana);
    await send(ana, 'escrito hoy');
    await expect(ana.locator('.day-separator')).toHaveText(['Hoy']);
    // Stored: the server's time is on it (a message on its way has none yet).
    await expect(lastMessage(ana).locator('time')).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}T/);
    const iso = (await lastMessage(ana).locator('time').getAttribute('datetime'))!;

    const tomorrow = await openChat('/', 'Beto', [], {
      timezoneId: 'Europe/Madrid',
      fixedTime: new Date(Date.parse(iso) + DAY_MS),
    });
    await expect(tomorrow.locator('.day-separator')).toHaveText(['Ayer']);

    const later = new Date(Date.parse(iso) + 3 * DAY_MS);
    const inThreeDays = await openChat('/', 'Caro', [], { timezoneId: 'Europe/Madrid', fixedTime: later });
    const sameYear =
      new Intl.DateTimeFormat('es', { timeZone: 'Europe/Madrid', year: 'numeric' }).format(later) ===
      new Intl.DateTimeFormat('es', { timeZone: 'Europe/Madrid', year: 'numeric' }).format(new Date(iso));
    const day = new Intl.DateTimeFormat('es', {
      timeZone: 'Europe/Madrid',
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      ...(sameYear ? {} : { year: 'numeric' }),
    })
      .format(new Date(iso))
      .replace(',', '');
    // «martes 24 de noviembre», shown with a capital by the stylesheet.
    await expect(inThreeDays.locator('.day-separator')).toHaveText([day]);
    expect(day).toMatch(/^(lunes|martes|miércoles|jueves|viernes|sábado|domingo) \d{1,2} de [a-z]+/);
  });
});

test('one person’s consecutive messages are grouped under one name and time', async ({ openChat }) => {
  const ana = await openChat('/', 'Ana');
  const beto = await openChat('/', 'Beto');
  await connected(ana);
  await connected(beto);
  for (const text of ['uno', 'dos', 'tres']) await send(ana, text);
  await send(beto, 'cuatro');
  await send(ana, 'cinco');
  await expect(texts(beto)).toHaveText(['uno', 'dos', 'tres', 'cuatro', 'cinco']);

  for (const page of [ana, beto]) {
    const rows = page.locator('#listado-msjs .message');
    const continued = await rows.evaluateAll((rows) => rows.map((row) => row.classList.contains('message--continued')));
    expect(continued).toEqual([false, true, true, false, false]);
    // The name of a continued message is still read out, but takes no room on screen.
    const hidden = await rows.nth(1).locator('.message__meta').boundingBox();
    expect(hidden!.height).toBeLessThanOrEqual(1);
    await expect(rows.nth(0).locator('.message__user')).toHaveText('Ana');
  }
});

test.describe('messages worth reading', () => {
  test('web links open in a new tab; nothing else a person writes becomes markup', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto');
    await connected(ana);
    await connected(beto);
    const written = [
      'mira https://example.com/a?b=1&c=2#d, está bien',
      'javascript:alert(1)',
      'JavaScript://%0aalert(1)',
      '<a href="javascript:alert(1)">pulsa</a>',
      '<b>negrita</b> <img src=x onerror=alert(1)>',
      'hxxps://example.com https//example.com data:text/html,hola',
    ];
    for (const text of written) await send(ana, text);
    for (const page of [ana, beto]) {
      await expect(texts(page)).toHaveText(written);
      const links = page.locator('#listado-msjs a');
      await expect(links).toHaveCount(1);
      await expect(links).toHaveAttribute('href', 'https://example.com/a?b=1&c=2#d');
      await expect(links).toHaveText('https://example.com/a?b=1&c=2#d');
      await expect(links).toHaveAttribute('target', '_blank');
      await expect(links).toHaveAttribute('rel', 'noopener noreferrer nofollow');
      await expect(page.locator('#listado-msjs b, #listado-msjs img')).toHaveCount(0);
    }
  });

  test('mentions are highlighted, and a mention of me stands out', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana María');
    const beto = await openChat('/', 'Beto');
    await connected(ana);
    await connected(beto);
    await send(beto, 'hola @ana maría, ¿has visto a @Caro?');
    // The reader's own name is matched whole, spaces and all; others' up to the first space.
    await expect(lastMessage(ana).locator('.mention')).toHaveText(['@ana maría', '@Caro']);
    await expect(lastMessage(beto).locator('.mention')).toHaveText(['@ana', '@Caro']);
    await expect(lastMessage(ana).locator('.mention--me')).toHaveText(['@ana maría']);
    await expect(lastMessage(beto).locator('.mention--me')).toHaveCount(0);
  });

  test('the composer is multi-line: Enter sends, Shift+Enter adds a line', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto');
    await connected(ana);
    await connected(beto);
    const input = ana.locator('#nuevo-msj');
    await input.pressSequentially('primera línea');
    await input.press('Shift+Enter');
    await input.pressSequentially('segunda línea');
    await expect(input).toHaveValue('primera línea\nsegunda línea');
    await input.press('Enter');
    await expect(input).toHaveValue('');
    await expect(texts(beto)).toHaveText(['primera línea\nsegunda línea']);
    // Shown on two lines, not one.
    const shown = await texts(beto).first().evaluate((text) => (text as HTMLElement).innerText);
    expect(shown.split('\n')).toEqual(['primera línea', 'segunda línea']);
  });

  test('near the limit a counter appears; past it the button says why it cannot send', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    await connected(ana);
    const input = ana.locator('#nuevo-msj');
    const counter = ana.locator('#contador');
    const button = ana.locator('#btn-msj');
    await input.fill('a'.repeat(100));
    await expect(counter).toBeHidden();
    await input.fill('a'.repeat(1_850));
    await expect(counter).toBeVisible();
    await expect(counter).toHaveText('1850/2000');
    await expect(button).toBeEnabled();

    await input.fill('ñ'.repeat(2_031));
    await expect(counter).toHaveText('Demasiado largo para enviarlo: 2031/2000 caracteres (sobran 31).');
    await expect(button).toBeDisabled();
    // The button is described by the counter, so a screen reader says why, too.
    await expect(button).toHaveAccessibleDescription(/Demasiado largo/);
    await input.press('Enter');
    await expect(ana.locator('#listado-msjs .message')).toHaveCount(0);
    await expect(input).toHaveValue('ñ'.repeat(2_031));

    await input.fill('ñ'.repeat(2_000));
    await expect(button).toBeEnabled();
    await input.press('Enter');
    await expect(ana.locator('#listado-msjs .message')).toHaveCount(1);
    await expect(lastMessage(ana)).not.toHaveClass(/message--pending|message--failed/);
    await expect(counter).toBeHidden();
  });
});

test.describe('attention', () => {
  async function scrolledToBottom(list: Locator): Promise<boolean> {
    return list.evaluate((list) => list.scrollHeight - list.scrollTop - list.clientHeight < 50);
  }

  test('scrolled up, new messages wait under «Nuevos mensajes ↓» and count in the title', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto');
    await connected(ana);
    await connected(beto);
    await expect(beto).toHaveTitle('#general — Sala de chat');
    for (let n = 1; n <= 30; n++) await send(ana, `mensaje ${n}`);
    await expect(texts(beto)).toHaveCount(30);
    const list = beto.locator('#listado-msjs');
    // At the bottom the view follows, and nothing is unread.
    await expect.poll(() => scrolledToBottom(list)).toBe(true);
    await expect(beto).toHaveTitle('#general — Sala de chat');
    await expect(beto.locator('#nuevos')).toHaveCount(0);

    await list.evaluate((list) => list.scrollTo(0, 200));
    const before = await list.evaluate((list) => list.scrollTop);
    for (const text of ['nuevo 1', 'nuevo 2', 'nuevo 3']) await send(ana, text);
    await expect(texts(beto)).toHaveCount(33);
    await expect(beto).toHaveTitle('(3) #general — Sala de chat');
    await expect(beto.locator('#nuevos')).toHaveText('Nuevos mensajes (3) ↓');
    // The view was not yanked down.
    expect(await list.evaluate((list) => list.scrollTop)).toBe(before);
    // Mine are never unread.
    await expect(ana).toHaveTitle('#general — Sala de chat');

    await beto.locator('#nuevos').click();
    await expect.poll(() => scrolledToBottom(list)).toBe(true);
    await expect(beto.locator('#nuevos')).toHaveCount(0);
    await expect(beto).toHaveTitle('#general — Sala de chat');
  });

  test('while the tab is hidden, new messages count in its title until it is shown', async ({ openChat }) => {
    const ana = await openChat('/sala/equipo', 'Ana');
    const beto = await openChat('/sala/equipo', 'Beto');
    await connected(ana);
    await connected(beto);
    const setHidden = (hidden: boolean) =>
      beto.evaluate((hidden) => {
        Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
        document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
      }, hidden);
    await setHidden(true);
    await send(ana, 'uno');
    await send(ana, 'dos');
    await expect(texts(beto)).toHaveCount(2);
    await expect(beto).toHaveTitle('(2) #equipo — Sala de chat');
    // At the bottom, so no button: only the title tells.
    await expect(beto.locator('#nuevos')).toHaveCount(0);
    await setHidden(false);
    await expect(beto).toHaveTitle('#equipo — Sala de chat');
  });
});

test('every author colour keeps 4.5:1 contrast on both bubbles, in both themes', async ({ openChat }) => {
  const page = await openChat('/', 'Ana');
  await connected(page);
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const worst = await page.evaluate(() => {
      // Colours as the browser paints them (gamut-mapped to sRGB), read back from a canvas.
      const canvas = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
      const rgb = (color: string) => {
        canvas.clearRect(0, 0, 1, 1);
        canvas.fillStyle = color;
        canvas.fillRect(0, 0, 1, 1);
        return Array.from(canvas.getImageData(0, 0, 1, 1).data.slice(0, 3));
      };
      const luminance = (color: string) => {
        const [r, g, b] = rgb(color).map((v) => {
          const c = v / 255;
          return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const contrast = (a: string, b: string) => {
        const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
        return (x + 0.05) / (y + 0.05);
      };
      const probe = document.createElement('ul');
      probe.className = 'messages';
      document.body.append(probe);
      let worst = { ratio: Infinity, hue: -1, mine: false };
      for (const mine of [false, true]) {
        const row = document.createElement('li');
        row.className = mine ? 'message message--mine' : 'message';
        const name = document.createElement('span');
        name.className = 'message__user';
        name.textContent = 'Nombre';
        row.append(name);
        probe.append(row);
        const background = getComputedStyle(row).backgroundColor;
        for (let hue = 0; hue < 360; hue++) {
          name.style.setProperty('--hue', String(hue));
          const ratio = contrast(getComputedStyle(name).color, background);
          if (ratio < worst.ratio) worst = { ratio, hue, mine };
        }
      }
      probe.remove();
      return worst;
    });
    expect(worst.ratio, `${colorScheme}: hue ${worst.hue}${worst.mine ? ' (mine)' : ''}`).toBeGreaterThanOrEqual(4.5);
  }
});

test('new messages of others are announced once; the history is not read out', async ({ openChat }) => {
  const ana = await openChat('/', 'Ana');
  await connected(ana);
  await send(ana, 'antes de que llegue Beto');
  const beto = await openChat('/', 'Beto');
  await connected(beto);
  await expect(texts(beto)).toHaveText(['antes de que llegue Beto']);
  // The list is not a live region, so loading it (or older pages) is silent.
  await expect(beto.locator('#listado-msjs')).not.toHaveAttribute('aria-live', /.*/);
  await expect(beto.locator('[aria-live]:not([aria-live="off"]) .message')).toHaveCount(0);
  await expect(beto.locator('#anuncio')).toHaveText('');
  await expect(beto.locator('#anuncio')).toHaveAttribute('aria-live', 'polite');

  await send(ana, 'hola, Beto');
  await expect(beto.locator('#anuncio')).toHaveText('Ana: hola, Beto');
  // My own messages are not announced to me.
  await send(beto, 'hola, Ana');
  await expect(texts(beto)).toHaveCount(3);
  await expect(beto.locator('#anuncio')).toHaveText('Ana: hola, Beto');
});

/**
 * Replaces the browser's Notification API (headless Chromium has no notification centre): it
 * starts with `initial` permission, answers a request with `answer`, and records what is shown
 * and how often the page asked, in `window.__notifications`.
 */
function stubNotifications({ initial, answer }: { initial: NotificationPermission; answer: NotificationPermission }) {
  const record = { shown: [] as Array<{ title: string; body?: string; tag?: string }>, asked: 0 };
  let permission = initial;
  class RecordedNotification {
    onclick: unknown = null;
    static get permission() {
      return permission;
    }
    static async requestPermission() {
      record.asked += 1;
      permission = answer;
      return permission;
    }
    constructor(title: string, options: NotificationOptions = {}) {
      record.shown.push({ title, body: options.body, tag: options.tag });
    }
    close() {}
  }
  Object.defineProperty(window, 'Notification', { value: RecordedNotification, configurable: true, writable: true });
  (window as unknown as { __notifications: typeof record }).__notifications = record;
}

test.describe('notifications', () => {
  const withNotifications = (initial: NotificationPermission, answer: NotificationPermission = initial) => ({
    init: (context: import('@playwright/test').BrowserContext) =>
      context.addInitScript(stubNotifications, { initial, answer }),
  });
  type Recorded = { shown: Array<{ title: string; body?: string; tag?: string }>; asked: number };
  const recorded = (page: Page) =>
    page.evaluate(() => (window as unknown as { __notifications: Recorded }).__notifications);
  const setHidden = (page: Page, hidden: boolean) =>
    page.evaluate((hidden) => {
      Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    }, hidden);

  test('asked for only by the button; then a hidden tab is told of others’ messages', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto', [], withNotifications('default', 'granted'));
    await connected(ana);
    await connected(beto);
    const switcher = beto.locator('#avisos');
    await expect(switcher).toHaveText('Activar avisos');
    // Never on load: only the button asks.
    expect((await recorded(beto)).asked).toBe(0);
    await switcher.click();
    await expect(switcher).toHaveText('Avisos: sí');
    await expect(switcher).toHaveAttribute('aria-pressed', 'true');
    await expect(switcher).toHaveAccessibleName('Avisos de #general');
    expect((await recorded(beto)).asked).toBe(1);

    // A visible page shows the message itself.
    await send(ana, 'lo ves ya');
    await expect(texts(beto)).toHaveCount(1);
    expect((await recorded(beto)).shown).toEqual([]);

    await setHidden(beto, true);
    await send(ana, 'hola, Beto');
    await expect.poll(async () => (await recorded(beto)).shown).toEqual([
      { title: 'Ana en #general', body: 'hola, Beto', tag: 'sala-general' },
    ]);
    // Mine never notify me.
    await send(beto, 'ya voy');
    await expect(texts(ana)).toHaveCount(3);
    expect((await recorded(beto)).shown).toHaveLength(1);
  });

  test('a room switched off stays off, and a mention of me still notifies', async ({ openChat }) => {
    const ana = await openChat('/sala/equipo', 'Ana');
    const beto = await openChat('/sala/equipo', 'Beto', [], withNotifications('granted'));
    await connected(ana);
    await connected(beto);
    const switcher = beto.locator('#avisos');
    await expect(switcher).toHaveText('Avisos: sí');
    await switcher.click();
    await expect(switcher).toHaveText('Avisos: no');
    await expect(switcher).toHaveAttribute('aria-pressed', 'false');

    await setHidden(beto, true);
    await send(ana, 'nada urgente');
    await expect(texts(beto)).toHaveCount(1);
    expect((await recorded(beto)).shown).toEqual([]);
    await send(ana, '@beto, ¿lo miras?');
    await expect.poll(async () => (await recorded(beto)).shown).toEqual([
      { title: 'Ana te ha mencionado en #equipo', body: '@beto, ¿lo miras?', tag: 'sala-equipo' },
    ]);

    // Remembered for this room, and only for it.
    await beto.reload();
    await connected(beto);
    await expect(beto.locator('#avisos')).toHaveText('Avisos: no');
    await beto.goto(new URL('/sala/general', beto.url()).href);
    await connected(beto);
    await expect(beto.locator('#avisos')).toHaveText('Avisos: sí');
  });

  test('refused by the browser: the page says so and shows nothing', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto', [], withNotifications('default', 'denied'));
    await connected(ana);
    await connected(beto);
    await beto.locator('#avisos').click();
    await expect(beto.locator('#avisos')).toHaveText('Avisos bloqueados');
    await setHidden(beto, true);
    await send(ana, '@Beto hola');
    await expect(texts(beto)).toHaveCount(1);
    expect((await recorded(beto)).shown).toEqual([]);
  });
});

test('every control is reached with Tab, shows its focus, and the chat works from the keyboard', async ({
  openChat,
}) => {
  const ana = await openChat('/', 'Ana');
  const beto = await openChat('/', 'Beto');
  await connected(ana);
  await connected(beto);
  const reached = new Map<string, { outline: string; shadow: string }>();
  for (let step = 0; step < 20; step++) {
    await beto.keyboard.press('Tab');
    const focused = await beto.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element || element === document.body) return null;
      const style = getComputedStyle(element);
      return {
        name: element.id || element.getAttribute('aria-label') || element.textContent?.trim() || element.tagName,
        outline: style.outlineStyle === 'none' ? 'none' : `${style.outlineStyle} ${style.outlineWidth}`,
        shadow: style.boxShadow,
      };
    });
    if (focused) reached.set(focused.name, { outline: focused.outline, shadow: focused.shadow });
  }
  for (const control of ['Ir a la sala', 'nombre', 'nuevo-msj', 'btn-msj']) {
    expect([...reached.keys()].join(' | ')).toContain(control);
  }
  for (const [name, { outline, shadow }] of reached) {
    expect(outline !== 'none' || shadow !== 'none', `${name} shows its focus`).toBe(true);
  }

  await beto.locator('#nuevo-msj').focus();
  await beto.keyboard.type('desde el teclado');
  await beto.keyboard.press('Enter');
  await expect(texts(ana)).toHaveText(['desde el teclado']);
});

test.describe('editing and deleting my messages', () => {
  const mine = (page: Page) => page.locator('#listado-msjs .message--mine');
  const action = (message: Locator, name: string) => message.locator('.message__action', { hasText: name });

  async function edit(page: Page, message: Locator, text: string) {
    await message.hover();
    await action(message, 'Editar').click();
    const field = message.getByRole('textbox', { name: 'Editar el mensaje' });
    await expect(field).toBeFocused();
    await field.fill(text);
    await field.press('Enter');
  }

  test('the author edits and deletes; everyone sees «(editado)» and «mensaje eliminado»', async ({ openChat }) => {
    const ana = await openChat('/', 'Ana');
    const beto = await openChat('/', 'Beto');
    await connected(ana);
    await connected(beto);
    await send(ana, 'hola, mundp');
    await send(beto, 'hola, Ana');
    await expect(texts(beto)).toHaveText(['hola, mundp', 'hola, Ana']);
    // Only my own messages can be changed.
    await expect(action(mine(ana), 'Editar')).toHaveCount(1);
    await expect(beto.locator('#listado-msjs .message').first().locator('.message__action')).toHaveCount(0);

    // Escape keeps the message as it was.
    await mine(ana).hover();
    await action(mine(ana), 'Editar').click();
    await mine(ana).getByRole('textbox').fill('no quería');
    await mine(ana).getByRole('textbox').press('Escape');
    await expect(texts(ana).first()).toHaveText('hola, mundp');

    await edit(ana, mine(ana), 'hola, mundo');
    for (const page of [ana, beto]) {
      await expect(texts(page).first()).toHaveText('hola, mundo (editado)');
    }

    // Dismissing the question keeps it; accepting deletes it.
    ana.once('dialog', (dialog) => dialog.dismiss());
    await mine(ana).hover();
    await action(mine(ana), 'Eliminar').click();
    await expect(texts(ana).first()).toHaveText('hola, mundo (editado)');
    ana.once('dialog', (dialog) => {
      expect(dialog.message()).toBe('¿Eliminar este mensaje? No se puede deshacer.');
      return dialog.accept();
    });
    await mine(ana).hover();
    await action(mine(ana), 'Eliminar').click();
    for (const page of [ana, beto]) {
      await expect(texts(page)).toHaveText(['mensaje eliminado', 'hola, Ana']);
    }
    await expect(mine(ana).locator('.message__action')).toHaveCount(0);

    // The server's page says the same, before and after it runs.
    await beto.reload();
    await connected(beto);
    await expect(texts(beto)).toHaveText(['mensaje eliminado', 'hola, Ana']);
  });

  test.describe('while offline', () => {
    test.use({ allowConsoleErrors: BROWSER_OFFLINE });

    test('a reader who was offline comes back to the same view as one who stayed', async ({ openChat }) => {
      const ana = await openChat('/', 'Ana');
      const beto = await openChat('/', 'Beto');
      const caro = await openChat('/', 'Caro');
      for (const page of [ana, beto, caro]) await connected(page);
      for (const text of ['uno', 'dos', 'tres']) await send(ana, text);
      await expect(texts(beto)).toHaveCount(3);

      await beto.context().setOffline(true);
      await expect(beto.locator('#estado')).toHaveAttribute('data-state', 'disconnected', { timeout: 30_000 });
      await edit(ana, mine(ana).nth(0), 'uno, corregido');
      await expect(texts(ana).nth(0)).toHaveText('uno, corregido (editado)');
      ana.once('dialog', (dialog) => dialog.accept());
      await mine(ana).nth(1).hover();
      await action(mine(ana).nth(1), 'Eliminar').click();
      await expect(texts(ana).nth(1)).toHaveText('mensaje eliminado');
      await send(ana, 'cuatro');

      await beto.context().setOffline(false);
      await connected(beto);
      const view = ['uno, corregido (editado)', 'mensaje eliminado', 'tres', 'cuatro'];
      await expect(texts(beto)).toHaveText(view);
      await expect(texts(caro)).toHaveText(view);
    });

    test('back after more changes than a replay carries: the page reads the room again, as it is', async ({
      openChat,
      server,
    }) => {
      const beto = await openChat('/', 'Beto');
      await connected(beto);
      // A bot, on the official client, writes enough for a page and more…
      const bot = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
      await once(bot, 'connect');
      const count = 201;
      const ids: number[] = [];
      for (let n = 0; n < count; n++) {
        ids.push((await bot.timeout(5_000).emitWithAck('nuevo mensaje', `bot ${n}`)).id);
      }
      await expect(texts(beto).last()).toHaveText(`bot ${count - 1}`);
      // …then, while Beto is offline, edits every message of it.
      await beto.context().setOffline(true);
      await expect(beto.locator('#estado')).toHaveAttribute('data-state', 'disconnected', { timeout: 30_000 });
      for (const id of ids) {
        const ack = await bot.timeout(5_000).emitWithAck('edit message', { id, text: `bot ${id} editado` });
        expect(ack).toEqual({ ok: true, id: expect.any(Number) });
      }
      bot.close();
      await beto.context().setOffline(false);
      await connected(beto);
      await expect(texts(beto).last()).toHaveText(`bot ${ids[count - 1]} editado (editado)`);
      // Nothing shown as it was before the edits.
      await expect(beto.locator('#listado-msjs .message__text', { hasText: /^bot \d+$/ })).toHaveCount(0);
    });
  });
});

test.describe('on a 360 px phone', () => {
  test.use({ allowConsoleErrors: BROWSER_OFFLINE });

  test('the connection status is fully visible, offline too', async ({ openChat }) => {
    const phone = await openChat('/', 'Ana', [], { viewport: { width: 360, height: 640 }, isMobile: true });
    await connected(phone);
    await phone.context().setOffline(true);
    const status = phone.locator('#estado');
    await expect(status).toHaveAttribute('data-state', 'disconnected', { timeout: 30_000 });
    await expect(status).toHaveText('Sin conexión · reintentando…');
    const box = (await status.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(360);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await phone.context().setOffline(false);
    await connected(phone);
  });
});

test.describe('accessibility (axe-core)', () => {
  test.use({ allowConsoleErrors: BROWSER_OFFLINE });

  /** The serious and critical violations axe finds on the page as it is now. */
  async function violations(page: Page): Promise<string[]> {
    const results = await new AxeBuilder({ page }).analyze();
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  }

  for (const colorScheme of ['light', 'dark'] as const) {
    for (const [device, viewport] of [
      ['desktop', { width: 1100, height: 720 }],
      ['phone', { width: 360, height: 640 }],
    ] as const) {
      test(`no serious or critical violation: ${device}, ${colorScheme}`, async ({ openChat }) => {
        const beto = await openChat('/', 'Beto', [], { colorScheme, viewport });
        const ana = await openChat('/', 'Ana', [], { colorScheme, viewport });
        await connected(ana);
        await connected(beto);
        // Empty room, then a conversation with every kind of row.
        expect(await violations(ana)).toEqual([]);
        await send(beto, 'hola @Ana, mira https://example.com');
        await send(ana, 'una línea\notra línea');
        await ana.locator('#nuevo-msj').pressSequentially('escribiendo');
        await expect(texts(ana)).toHaveCount(2);
        expect(await violations(ana)).toEqual([]);
        // Too long to send: counter and disabled button.
        await ana.locator('#nuevo-msj').fill('x'.repeat(2_100));
        await expect(ana.locator('#btn-msj')).toBeDisabled();
        expect(await violations(ana)).toEqual([]);
        // Offline.
        await ana.context().setOffline(true);
        await expect(ana.locator('#estado')).toHaveAttribute('data-state', 'disconnected', { timeout: 30_000 });
        expect(await violations(ana)).toEqual([]);
      });
    }
  }
});
