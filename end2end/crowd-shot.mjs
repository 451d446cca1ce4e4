import { chromium } from '@playwright/test';
import { io } from 'socket.io-client';
const url = process.argv[2];
const sockets = [];
for (let n = 0; n < 130; n++) {
  const s = io(url, { transports: ['websocket'], forceNew: true, auth: { name: `Persona ${String(n).padStart(3, '0')}`, userId: `u${n}`, room: 'general' } });
  sockets.push(s);
  await new Promise((r) => s.once('connect', r));
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.addInitScript(() => localStorage.setItem('chat.nombre', 'Ana'));
await page.goto(url);
await page.waitForSelector('#estado[data-state="connected"]');
await page.waitForTimeout(500);
await page.locator('.people__more').scrollIntoViewIfNeeded();
await page.screenshot({ path: '/tmp/crowd.png' });
console.log(await page.locator('#en-linea').textContent(), await page.locator('.people__more').textContent());
await browser.close();
sockets.forEach((s) => s.close());
