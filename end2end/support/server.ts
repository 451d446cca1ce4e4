// Starts the real server binary (built by `cargo leptos build --release --precompress`) on a
// loopback port.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const binary = process.env.CHAT_SERVER_BIN ?? path.join(repoRoot, 'target/release/server');

/** Environment that turns the server's flood control off. */
export const unlimited = {
  CHAT_MESSAGE_BURST: '0',
  CHAT_ADDRESS_MESSAGE_BURST: '0',
  CHAT_MAX_CONNECTIONS_PER_ADDRESS: '0',
  CHAT_ADDRESS_HANDSHAKE_BURST: '0',
  CHAT_ADDRESS_REQUEST_BURST: '0',
};

export class ChatServer {
  private exited: Promise<unknown>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** The history's database URL. */
    readonly database: string,
    readonly log: string[],
  ) {
    this.exited = once(child, 'exit');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts a server; port 0 lets the OS pick a free one. Without `database`, the server gets an
   * empty history of its own; pass another server's `database` to restart on its history.
   * `env` adds to (or overrides) its environment.
   */
  static async start({
    port = 0,
    database = '',
    args = [] as string[],
    env = {} as Record<string, string>,
  } = {}): Promise<ChatServer> {
    database ||= `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'chat-db-')), 'chat.db')}?mode=rwc`;
    const child = spawn(binary, ['--addr', `127.0.0.1:${port}`, '--database-url', database, ...args], {
      cwd: repoRoot,
      // No flood control unless a test asks for it (its `args` win over these): tests send
      // hundreds of messages as fast as they can, all from 127.0.0.1.
      env: { ...process.env, NO_COLOR: '1', RUST_LOG: 'info', ...unlimited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    child.stderr!.on('data', (chunk) => log.push(String(chunk)));
    const lines = readline.createInterface({ input: child.stdout! });
    const bound = new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${log.join('')}`)));
      lines.on('line', (line) => {
        log.push(line);
        const found = /listening on http:\/\/[\d.]+:(\d+)/.exec(line);
        if (found) resolve(Number(found[1]));
      });
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000).unref(),
    );
    return new ChatServer(child, await Promise.race([bound, timeout]), database, log);
  }

  /** Stops the server the way an operator would (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}
