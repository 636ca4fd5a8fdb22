import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PromptStore } from '../stores/prompt-store';
import { DEFAULT_LABEL, type PromptRef } from './prompt-ref';
import { contentHashOf, parsePrompt, type PromptTemplate } from './prompt-template';

/** The repo's prompts, `prompts/<name>/v<n>.md`: they seed the registry; the registry is what answers use. */
export const PROMPTS_DIR = join(__dirname, '..', '..', 'prompts');

const SEED_FILE = /^v(\d+)\.md$/;

/**
 * Prompts as data over the prompt store: versions are immutable, so their templates are kept in
 * memory once read; labels move, so they are read on every resolution (a moved or rolled-back
 * label is served on the next answer, by every instance).
 */
export class PromptRegistry {
  private readonly templates = new Map<string, PromptTemplate>();

  constructor(
    readonly store: PromptStore,
    private readonly dir = PROMPTS_DIR,
  ) {}

  /**
   * Adds each repo prompt file whose text is not stored yet (in file order), and points the
   * default label at `defaults[name]` (or the newest file) when the label does not exist yet.
   * Idempotent, and safe for processes starting together.
   */
  async seed(defaults: Record<string, string> = {}): Promise<void> {
    for (const name of readdirSync(this.dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
      const files = readdirSync(join(this.dir, name))
        .filter((file) => SEED_FILE.test(file))
        .sort((a, b) => Number(SEED_FILE.exec(a)?.[1]) - Number(SEED_FILE.exec(b)?.[1]));
      const seeded = new Map<string, number>();
      for (const file of files) {
        const content = readFileSync(join(this.dir, name, file), 'utf8');
        const { version } = await this.store.addVersion(name, content, contentHashOf(content), 'repo', `seeded from prompts/${name}/${file}`);
        seeded.set(file.replace(/\.md$/, ''), version.version);
      }
      const wanted = seeded.get(defaults[name] ?? '') ?? [...seeded.values()].at(-1);
      if (wanted !== undefined) await this.store.moveLabel(name, DEFAULT_LABEL, wanted, { kind: 'seed', actor: 'repo', reason: 'first start', onlyIfAbsent: true });
    }
  }

  /** The version a label points at; null when the prompt has no such label. */
  async resolve(name: string, label: string): Promise<PromptRef | null> {
    const version = await this.store.labelVersion(name, label);
    return version === null ? null : { name, version, label };
  }

  async template(name: string, version: number): Promise<PromptTemplate> {
    const key = `${name}@${version}`;
    const cached = this.templates.get(key);
    if (cached) return cached;
    const stored = await this.store.version(name, version);
    if (!stored) throw new Error(`prompt ${name} has no version ${version}`);
    const template = parsePrompt(name, version, stored.content);
    this.templates.set(key, template);
    return template;
  }
}
