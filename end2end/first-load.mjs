// Time until a fresh page can send a message, on an emulated slow mobile network:
//   node end2end/first-load.mjs OURS_URL SEED_URL [RUNS]
// e.g. `node end2end/first-load.mjs http://127.0.0.1:3000 http://127.0.0.1:3100 5` against our
// server and the seed's (bench/baseline/server.js), both already running on loopback. Each run
// is a new browser context (empty cache) throttled like DevTools' "Fast 3G" preset; the runs
// alternate between the two pages. Two moments of each load:
// - can send: a message written now is not lost. Ours: its form is painted (it posts over
//   plain HTTP until the WASM takes over, and then the page's outbox keeps what is sent before
//   the socket connects). The seed's: its script has run (socket.io-client buffers an emit made
//   before it connects).
// - live: the socket is connected, others' messages arrive. Ours: `#estado` says so (after
//   hydration); the seed's: `socket.connected`.
// The seed's page loads jQuery from code.jquery.com; this script serves the same file, gzipped
// as that CDN does, from a loopback port of its own, through the same throttled network. It
// talks to nothing but loopback. Results in docs/BENCHMARKS.md ("First load").

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';

const [ours, seed, runs = '5'] = process.argv.slice(2);
if (!ours || !seed) {
  console.error('usage: node end2end/first-load.mjs OURS_URL SEED_URL [RUNS]');
  process.exit(2);
}

// Chromium DevTools' "Fast 3G" (front_end/core/sdk/NetworkManager.ts): 1.44 Mbit/s down and
// 675 kbit/s up, each × 0.9, and 150 ms × 3.75 of latency.
const FAST_3G = {
  offline: false,
  latency: 150 * 3.75,
  downloadThroughput: ((1.44 * 1000 * 1000) / 8) * 0.9,
  uploadThroughput: ((675 * 1000) / 8) * 0.9,
};

const here = path.dirname(fileURLToPath(import.meta.url));
const jquery = gzipSync(readFileSync(path.join(here, 'node_modules/jquery/dist/jquery.js')));
const cdn = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/javascript', 'content-encoding': 'gzip' });
  response.end(jquery);
});
await new Promise((resolve) => cdn.listen(0, '127.0.0.1', resolve));
const jqueryUrl = `http://127.0.0.1:${cdn.address().port}/jquery-1.11.1.js`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});

/** Milliseconds from navigation to each of `moments`, and the bytes the page took. */
async function load(url, moments) {
  const context = await browser.newContext();
  await context.route('http://code.jquery.com/jquery-1.11.1.js', (route) =>
    route.continue({ url: jqueryUrl }),
  );
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  let bytes = 0;
  cdp.on('Network.loadingFinished', (event) => (bytes += event.encodedDataLength));
  const start = performance.now();
  const reached = Object.entries(moments).map(async ([moment, wait]) => {
    await wait(page);
    return [moment, performance.now() - start];
  });
  await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
  const took = Object.fromEntries(await Promise.all(reached));
  await context.close();
  return { took, bytes };
}

const timeout = 120_000;
/** Whether the browser has painted the page (its stylesheets loaded) with `selector` in it. */
const painted = (selector) =>
  document.querySelector(selector) !== null &&
  performance.getEntriesByType('paint').some((entry) => entry.name === 'first-contentful-paint');
const pages = {
  ours: [
    ours,
    {
      'can send': (page) => page.waitForFunction(painted, '#btn-msj', { timeout }),
      live: (page) => page.locator('#estado[data-state="connected"]').waitFor({ timeout }),
    },
  ],
  seed: [
    seed,
    {
      'can send': (page) => page.waitForFunction(() => typeof window.enviarMensaje === 'function', null, { timeout }),
      live: (page) => page.waitForFunction(() => window.socket?.connected === true, null, { timeout }),
    },
  ],
};
const results = { ours: [], seed: [] };
for (let run = 0; run < Number(runs); run++) {
  for (const [name, [url, moments]] of Object.entries(pages)) {
    const result = await load(url, moments);
    results[name].push(result);
    const times = Object.entries(result.took).map(([moment, ms]) => `${moment} ${Math.round(ms)} ms`);
    console.log(`${name} run ${run + 1}: ${times.join(', ')}; ${result.bytes} B`);
  }
}
for (const [name, list] of Object.entries(results)) {
  for (const moment of Object.keys(list[0].took)) {
    const times = list.map((r) => r.took[moment]).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`${name} ${moment}: median ${Math.round(median)} ms (${Math.round(times[0])}–${Math.round(times.at(-1))})`);
  }
  const sizes = list.map((r) => r.bytes).sort((a, b) => a - b);
  console.log(`${name}: ${sizes[Math.floor(sizes.length / 2)]} B over the network (median)`);
}
await browser.close();
cdn.close();
