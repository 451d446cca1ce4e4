// A local cluster for tests, started by the very script operators use (`deploy/cluster`): nginx
// in front of three nodes of the release binary, over a Redis server of the test's own (so it can
// be restarted) and a fresh PostgreSQL database.
//
// Needs PostgreSQL (CHAT_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test),
// redis-server and nginx. Without them `scripts/test` sets CHAT_CLUSTER_TESTS=skip and says so;
// CHAT_REQUIRE_CLUSTER=1 (CI) makes their absence a failure instead.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { repoRoot, unlimited } from './server';

const run = promisify(execFile);
const postgresUrl = process.env.CHAT_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const script = path.join(repoRoot, 'deploy/cluster');

export const clusterSkipped = process.env.CHAT_CLUSTER_TESTS === 'skip';
export const skipReason = 'CHAT_CLUSTER_TESTS=skip: PostgreSQL, redis-server or nginx absent (see README)';

/**
 * The lowest port the kernel hands out to outgoing connections. Between the check below and the
 * nodes binding their ports, the nodes already started open connections to PostgreSQL and Redis
 * (and every other test opens its own): a block inside this range may be taken by one of them.
 */
function ephemeralPortsStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** A free block of `count` consecutive loopback ports, below the ephemeral ones. */
async function freePorts(count: number): Promise<number> {
  const lowest = 10_000;
  const span = Math.max(ephemeralPortsStart() - lowest - count, 1_000);
  for (;;) {
    const base = lowest + Math.floor(Math.random() * span);
    const servers: net.Server[] = [];
    try {
      for (let n = 0; n < count; n++) {
        const server = net.createServer();
        servers.push(server);
        server.listen(base + n, '127.0.0.1');
        await once(server, 'listening');
      }
      return base;
    } catch {
      // Taken: try another block.
    } finally {
      await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
    }
  }
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(true));
      socket.on('error', () => resolve(false));
      setTimeout(() => resolve(false), 500).unref();
      socket.unref();
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** A Redis server of the test's own, keeping nothing on disk. */
class Redis {
  private child!: ChildProcess;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitForPort(this.port);
  }

  /** Kills it outright, as a crash would. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }
}

export class Cluster {
  private constructor(
    readonly port: number,
    readonly nodes: number,
    readonly redis: Redis,
    private readonly database: string,
    private readonly runDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Node `n` (1-based) on its own address, as an operator's tools reach it (not through nginx). */
  nodeUrl(n: number): string {
    return `http://127.0.0.1:${this.port + n}`;
  }

  /** The cookie that pins a browser to node `n` (1-based) through nginx. */
  pin(n: number) {
    return { name: 'chat_node', value: `n${n}`, domain: '127.0.0.1', path: '/' };
  }

  static async start(nodes = 3): Promise<Cluster> {
    const port = await freePorts(nodes + 2);
    const redis = new Redis(port + nodes + 1);
    await redis.start();
    const database = `chat_e2e_${process.pid}_${port}`;
    await Cluster.admin(async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.query(`CREATE DATABASE ${database}`);
    });
    const runDir = mkdtempSync(path.join(tmpdir(), 'chat-cluster-'));
    const cluster = new Cluster(port, nodes, redis, database, runDir);
    try {
      await run(script, ['start', '--nodes', String(nodes), '--port', String(port), '--run-dir', runDir], {
        env: { ...process.env, ...unlimited, DATABASE_URL: cluster.databaseUrl, REDIS_URL: redis.url, RUST_LOG: 'info' },
      });
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get databaseUrl(): string {
    return postgresUrl.replace(/\/[^/]*$/, `/${this.database}`);
  }

  /** Kills node `n` (1-based) with SIGKILL: no goodbye to its clients, as in a crash. */
  kill(n: number): void {
    const pid = Number(readFileSync(path.join(this.runDir, `node-${n}.pid`), 'utf8'));
    process.kill(pid, 'SIGKILL');
  }

  /** Runs `sql` against the cluster's database. */
  async query<Row extends object>(sql: string): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Row[];
    } finally {
      await client.end();
    }
  }

  /** A node's log, to explain a failure. */
  log(n: number): string {
    return readFileSync(path.join(this.runDir, `node-${n}.log`), 'utf8');
  }

  async stop(): Promise<void> {
    await run(script, ['stop', '--run-dir', this.runDir]).catch(() => {});
    await this.redis.kill();
    await Cluster.admin((admin) => admin.query(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`));
  }

  private static async admin<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.end();
    }
  }
}
