import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * The zero-setup deployment (API + workers, workers/all-in-one.ts) as a child process, so a test
 * can kill it with SIGKILL and start it again on the same data directory. Output goes to `logFile`.
 */
export function allInOne(env: NodeJS.ProcessEnv, logFile: string) {
  let child: ChildProcess | undefined;
  const exited = (proc: ChildProcess) => new Promise<void>((done) => (proc.exitCode !== null || proc.signalCode !== null ? done() : proc.once('exit', () => done())));
  return {
    start(): void {
      const log = openSync(logFile, 'a');
      child = spawn(process.execPath, ['--import', 'tsx', 'workers/all-in-one.ts'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
    },
    async stop(signal: NodeJS.Signals): Promise<void> {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited(child);
    },
  };
}
