// The official Node socket.io-client, unchanged, against the Rust server: no browser involved.

import { once } from 'node:events';
import { io, type Socket } from 'socket.io-client';
import { expect, test } from '../support/fixtures';

for (const transport of ['websocket', 'polling'] as const) {
  test.describe(`socket.io-client over ${transport} only`, () => {
    let sockets: Socket[] = [];
    const connect = async (url: string) => {
      const socket = io(url, { transports: [transport], forceNew: true, reconnection: false });
      sockets.push(socket);
      await once(socket, 'connect');
      expect(socket.io.engine.transport.name).toBe(transport);
      return socket;
    };
    test.afterEach(() => {
      sockets.forEach((socket) => socket.close());
      sockets = [];
    });

    test('relays to everyone, sender included, and acknowledges', async ({ server }) => {
      const ana = await connect(server.url);
      const beto = await connect(server.url);
      const seenByAna = once(ana, 'nuevo mensaje');
      const seenByBeto = once(beto, 'nuevo mensaje');

      const ack = await ana.timeout(5_000).emitWithAck('nuevo mensaje', 'hola 👋');
      expect(ack).toEqual({ ok: true, id: expect.any(Number) });
      // The text comes first, as the seed's clients expect; the stored message's details follow.
      // `person`: the public id the server gave Ana's connection, the same in every copy.
      const meta = { id: ack.id, user: 'Anónimo', person: expect.any(String), room: 'general', at: expect.any(String) };
      const [anas, betos] = [await seenByAna, await seenByBeto];
      expect(anas).toEqual(['hola 👋', meta]);
      expect(betos).toEqual(['hola 👋', meta]);
      expect(betos[1].person).toBe(anas[1].person);

      // The seed's client sends without an ack callback; that works too.
      const next = once(beto, 'nuevo mensaje');
      ana.emit('nuevo mensaje', 'sin ack');
      expect((await next)[0]).toBe('sin ack');
    });

    test('a returning client gets the newest of a long absence, and the rest through history pages', async ({ server }) => {
      const writer = await connect(server.url);
      for (let n = 0; n < 1_000; n++) {
        // Every 100th waits for its ack, so the burst never overflows the sender's queue.
        if (n % 100 === 99) await writer.timeout(5_000).emitWithAck('nuevo mensaje', `m${n}`);
        else writer.emit('nuevo mensaje', `m${n}`);
      }
      const reader = io(server.url, { transports: [transport], forceNew: true, reconnection: false, auth: { offset: 0 } });
      sockets.push(reader);
      const texts: string[] = [];
      let skipped: { after: number; before: number } | undefined;
      reader.on('history skipped', (gap: { after: number; before: number }) => (skipped = gap));
      reader.on('history', (batch: { text: string }[]) => texts.push(...batch.map((m) => m.text)));
      await expect.poll(() => texts.length).toBe(200);
      expect(texts).toEqual(Array.from({ length: 200 }, (_, n) => `m${800 + n}`));
      expect(skipped?.after).toBe(0);

      // The rest, page by page, as the page reads older messages.
      let before = skipped!.before;
      const older: string[] = [];
      for (;;) {
        const response = await fetch(`${server.url}/api/historial`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ room: 'general', before: String(before) }),
        });
        const page: { messages: { text: string; id: number }[] } = await response.json();
        if (page.messages.length === 0) break;
        older.unshift(...page.messages.map((m) => m.text));
        before = page.messages[0].id;
      }
      expect([...older, ...texts]).toEqual(Array.from({ length: 1_000 }, (_, n) => `m${n}`));
    });

    test('refuses bad payloads with an error ack and stays connected', async ({ server }) => {
      const ana = await connect(server.url);
      const beto = await connect(server.url);
      const received: unknown[] = [];
      beto.on('nuevo mensaje', (text: unknown) => received.push(text));

      const refused = async (...args: unknown[]) =>
        (await ana.timeout(5_000).emitWithAck('nuevo mensaje', ...args)).error;
      expect(await refused()).toBe('missing');
      expect(await refused(42)).toBe('not_text');
      expect(await refused({ text: 'hola' })).toBe('not_text');
      expect(await refused(new Uint8Array([1, 2, 3]))).toBe('not_text');
      expect(await refused('')).toBe('empty');
      expect(await refused('\n \t')).toBe('empty');
      expect(await refused('x'.repeat(2_001))).toBe('too_long');
      const reply = await ana.timeout(5_000).emitWithAck('nuevo mensaje', 42);
      expect(reply.message).toBe('El mensaje debe ser texto.');

      expect(await ana.timeout(5_000).emitWithAck('nuevo mensaje', 'sigo aquí')).toMatchObject({ ok: true });
      await expect.poll(() => received).toEqual(['sigo aquí']);
      expect(ana.connected).toBe(true);
    });
  });
}
