import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The commit this platform runs: PLATFORM_COMMIT when the deployment sets it (images carry no
 * .git), else read from the checkout's .git without the git binary, else "unknown".
 */
export function platformCommit(env: NodeJS.ProcessEnv = process.env, root = join(__dirname, '..')): string {
  if (env.PLATFORM_COMMIT) return env.PLATFORM_COMMIT;
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    try {
      return readFileSync(join(root, '.git', ref), 'utf8').trim();
    } catch {
      const packed = readFileSync(join(root, '.git', 'packed-refs'), 'utf8');
      return packed.split('\n').find((line) => line.endsWith(` ${ref}`))?.split(' ')[0] ?? 'unknown';
    }
  } catch {
    return 'unknown';
  }
}
