import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { MediaType } from '../../lib/ingest/types';

interface CorpusManifest {
  name: string;
  kind: string;
  source: { debian: string; version: string; dir: string } | { npm: string; dir: string };
  /** File (relative to `dir`) → sha256; `"*.md"` takes every Markdown file of an npm package. */
  files: Record<string, string> | '*.md';
}

export interface EvalDocument {
  /** The document id in the eval: the file's path inside its corpus. */
  id: string;
  path: string;
  mediaType: MediaType;
}

export interface EvalCorpus {
  name: string;
  kind: string;
  documents: EvalDocument[];
}

const MEDIA_TYPES: Record<string, MediaType> = { '.pdf': 'application/pdf', '.html': 'text/html', '.md': 'text/markdown' };

function mediaTypeOf(file: string): MediaType {
  const type = MEDIA_TYPES[file.slice(file.lastIndexOf('.'))];
  if (!type) throw new Error(`no media type for ${file}`);
  return type;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * Brings every corpus of scripts/eval/corpora.json into `cacheDir`, once: Debian packages through
 * `apt-get download` (no root needed, nothing installed) and `dpkg-deb`, npm ones from
 * node_modules. Each file is checked against its pinned sha256, so the eval always reads the same
 * bytes; a pinned package version the archive no longer serves falls back to the current one,
 * and the checksums then say whether its files changed.
 */
export function loadCorpora(cacheDir: string): EvalCorpus[] {
  const manifest = JSON.parse(readFileSync(join(__dirname, 'corpora.json'), 'utf8')) as { corpora: CorpusManifest[] };
  return manifest.corpora.map((corpus) => ({ name: corpus.name, kind: corpus.kind, documents: documentsOf(corpus, join(cacheDir, corpus.name)) }));
}

function documentsOf(corpus: CorpusManifest, dir: string): EvalDocument[] {
  if ('npm' in corpus.source) {
    const root = join(dirname(require.resolve(`${corpus.source.npm}/package.json`)), corpus.source.dir);
    return readdirSync(root)
      .filter((file) => file.endsWith('.md'))
      .sort()
      .map((file) => ({ id: file, path: join(root, file), mediaType: mediaTypeOf(file) }));
  }
  const files = corpus.files as Record<string, string>;
  const missing = Object.entries(files).filter(([file, sum]) => !existsSync(join(dir, file)) || sha256(join(dir, file)) !== sum);
  if (missing.length > 0) fetchDebian(corpus.source, Object.keys(files), dir);
  for (const [file, sum] of Object.entries(files)) {
    const actual = sha256(join(dir, file));
    if (actual !== sum) throw new Error(`${corpus.name}/${file}: sha256 ${actual}, expected ${sum} (the package's files changed)`);
  }
  return Object.keys(files).map((file) => ({ id: file.split('/').at(-1) as string, path: join(dir, file), mediaType: mediaTypeOf(file) }));
}

function fetchDebian(source: { debian: string; version: string; dir: string }, files: string[], dir: string): void {
  const work = mkdtempSync(join(tmpdir(), 'rag-eval-deb-'));
  try {
    console.error(`[eval] fetching ${source.debian} ${source.version} from Debian's archive`);
    try {
      execFileSync('apt-get', ['download', '-q', `${source.debian}=${source.version}`], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      console.error(`[eval] ${source.debian} ${source.version} is not served any more; taking the current version (checksums decide)`);
      execFileSync('apt-get', ['download', '-q', source.debian], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const deb = readdirSync(work).find((file) => file.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${source.debian} produced no package`);
    execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
    for (const file of files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(work, 'root', source.dir, file), join(dir, file));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
