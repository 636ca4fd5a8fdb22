import { benchCache } from './cache';
import { benchGateway } from './gateway';
import { benchIngest } from './ingest';
import { benchQuery } from './query';
import { benchReindex } from './reindex';

/** `npm run bench -- <name> [--options]`; each benchmark prints its figures and a JSON line. */
const benchmarks: Record<string, (args: string[]) => Promise<void>> = {
  ingest: benchIngest,
  query: benchQuery,
  reindex: benchReindex,
  gateway: benchGateway,
  cache: benchCache,
};

const [name, ...args] = process.argv.slice(2);
const run = name ? benchmarks[name] : undefined;
if (!run) {
  console.error(`usage: npm run bench -- <${Object.keys(benchmarks).join('|')}> [options]`);
  process.exit(2);
}
run(args).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
