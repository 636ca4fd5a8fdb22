import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Prompts are versioned files under `prompts/<name>/<version>.md`, never literals in code: a change
 * is a new version, answers record which one produced them, and the content hash proves which text
 * that was. Sections start with `## <part>`; `{{variable}}` placeholders are filled per call.
 */
export interface PromptTemplate {
  /** `<name>@<version>`, as recorded with every answer. */
  id: string;
  /** First 12 hex digits of the file's sha256. */
  contentHash: string;
  parts: Record<string, string>;
}

const PROMPTS_DIR = join(__dirname, '..', '..', 'prompts');
const NAME_OR_VERSION = /^[a-z0-9][a-z0-9-]{0,63}$/;
const cache = new Map<string, PromptTemplate>();

export function loadPrompt(name: string, version: string, dir = PROMPTS_DIR): PromptTemplate {
  if (!NAME_OR_VERSION.test(name) || !NAME_OR_VERSION.test(version)) throw new Error(`invalid prompt reference ${name}@${version}`);
  const key = `${dir}:${name}@${version}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const source = readFileSync(join(dir, name, `${version}.md`), 'utf8');
  const body = source.replace(/^---\n[\s\S]*?\n---\n/, '');
  const parts: Record<string, string> = {};
  for (const section of body.split(/^## /m).slice(1)) {
    const newline = section.indexOf('\n');
    parts[section.slice(0, newline).trim()] = section.slice(newline + 1).trim();
  }
  const template = { id: `${name}@${version}`, contentHash: createHash('sha256').update(source).digest('hex').slice(0, 12), parts };
  cache.set(key, template);
  return template;
}

/** Fills `{{variable}}` placeholders; a placeholder without a value is a bug, so it throws. */
export function renderPart(template: PromptTemplate, part: string, variables: Record<string, string>): string {
  const text = template.parts[part];
  if (text === undefined) throw new Error(`prompt ${template.id} has no "${part}" section`);
  return text.replace(/\{\{(\w+)\}\}/g, (_, variable: string) => {
    const value = variables[variable];
    if (value === undefined) throw new Error(`prompt ${template.id} needs {{${variable}}}`);
    return value;
  });
}
