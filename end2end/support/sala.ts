// The terminal client (`sala`, cli/, built by `cargo build --release -p sala`) run from tests.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { repoRoot } from './server';

const binary = process.env.SALA_BIN ?? path.join(repoRoot, 'target/release/sala');

/** A message as `sala tail --json` prints it. */
export type Printed = { text: string; user: string; id: number; room: string };

/** `sala`'s environment: the server at `url`, a profile of its own, the name `name`. */
export function salaEnv(url: string, name = 'Terminal'): NodeJS.ProcessEnv {
  const profile = mkdtempSync(path.join(tmpdir(), 'sala-profile-'));
  return { ...process.env, SALA_URL: url, SALA_CONFIG_DIR: profile, SALA_NAME: name };
}

/** `sala send text`: the stored message's id. */
export async function salaSend(env: NodeJS.ProcessEnv, text: string): Promise<number> {
  const { stdout } = await promisify(execFile)(binary, ['send', text], { env });
  return Number(stdout.trim());
}

/** A running `sala tail --json`, collecting what it prints (and what it says on stderr). */
export class SalaTail {
  readonly printed: Printed[] = [];
  readonly said: string[] = [];
  private readonly child: ChildProcess;

  constructor(env: NodeJS.ProcessEnv, args: string[] = []) {
    this.child = spawn(binary, ['tail', '--json', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => this.printed.push(JSON.parse(line)));
    readline.createInterface({ input: this.child.stderr! }).on('line', (line) => this.said.push(line));
  }

  texts(): string[] {
    return this.printed.map((message) => message.text);
  }

  stop(): void {
    this.child.kill();
  }
}
