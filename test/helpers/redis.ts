import { execFileSync, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './net';
import { waitFor } from './temporal';

function redisServerPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** A throwaway Redis server (Debian's redis-server, installed by scripts/setup.sh) on a loopback port, in memory only. */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const binary = redisServerPath();
  if (!binary) throw new Error(startRedis.unavailable());
  const port = await freePort();
  const server = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {}); // refused until the server listens: that is what we wait for
  try {
    await waitFor('redis-server to answer', () => probe.connect().then(() => probe.ping()).catch(() => 'down'), (reply) => reply === 'PONG', 10_000, 100);
  } finally {
    probe.disconnect();
  }
  return {
    url,
    async stop() {
      if (server.exitCode !== null) return;
      server.kill('SIGTERM');
      await new Promise((done) => server.once('exit', done));
    },
  };
}

/** Why Redis tests skip here, or undefined when they can run. */
startRedis.unavailable = (): string => (redisServerPath() ? '' : 'no redis-server installed (scripts/setup.sh installs Debian\'s as root; SKIP_REDIS=1 skips it)');
