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

      expect(await ana.timeout(5_000).emitWithAck('nuevo mensaje', 'hola 👋')).toEqual({ ok: true });
      expect(await seenByAna).toEqual(['hola 👋']);
      expect(await seenByBeto).toEqual(['hola 👋']);

      // The seed's client sends without an ack callback; that works too.
      const next = once(beto, 'nuevo mensaje');
      ana.emit('nuevo mensaje', 'sin ack');
      expect(await next).toEqual(['sin ack']);
    });

    test('refuses bad payloads with an error ack and stays connected', async ({ server }) => {
      const ana = await connect(server.url);
      const beto = await connect(server.url);
      const received: unknown[] = [];
      beto.on('nuevo mensaje', (text) => received.push(text));

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

      expect(await ana.timeout(5_000).emitWithAck('nuevo mensaje', 'sigo aquí')).toEqual({ ok: true });
      await expect.poll(() => received).toEqual(['sigo aquí']);
      expect(ana.connected).toBe(true);
    });
  });
}
