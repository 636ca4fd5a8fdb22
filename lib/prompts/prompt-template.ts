import { createHash } from 'node:crypto';

/**
 * A prompt's text: sections start with `## <part>`, `{{variable}}` placeholders are filled per call.
 * A leading `---` front matter block is description only. What answers record is
 * `<name>@v<version>#<content hash>`, so the hash proves which text produced an answer.
 */
export interface PromptTemplate {
  name: string;
  version: number;
  /** `<name>@v<version>`. */
  id: string;
  /** First 12 hex digits of the content's sha256. */
  contentHash: string;
  parts: Record<string, string>;
}

/** For each prompt the platform renders: its sections and the variables each one is given. */
export const PROMPT_CONTRACTS: Record<string, Record<string, readonly string[]>> = {
  'grounded-answer': { system: [], user: ['sources', 'question'], repair: ['issues'] },
};

export const contentHashOf = (content: string) => createHash('sha256').update(content).digest('hex').slice(0, 12);

export function parsePrompt(name: string, version: number, content: string): PromptTemplate {
  const body = content.replace(/^---\n[\s\S]*?\n---\n/, '');
  const parts: Record<string, string> = {};
  for (const section of body.split(/^## /m).slice(1)) {
    const newline = section.indexOf('\n');
    const title = (newline < 0 ? section : section.slice(0, newline)).trim();
    parts[title] = newline < 0 ? '' : section.slice(newline + 1).trim();
  }
  return { name, version, id: `${name}@v${version}`, contentHash: contentHashOf(content), parts };
}

/** The recorded form: `<name>@v<version>#<content hash>`. */
export const promptVersionOf = (template: PromptTemplate) => `${template.id}#${template.contentHash}`;

/**
 * What is wrong with a prompt's text against its contract: a section missing or empty, a
 * placeholder the platform never fills, or a variable a section must use and does not (a
 * `user` part without `{{question}}` would answer nothing). Empty: it renders.
 */
export function promptProblems(content: string, contract: Record<string, readonly string[]>): string[] {
  const { parts } = parsePrompt('check', 0, content);
  const problems: string[] = [];
  for (const [part, variables] of Object.entries(contract)) {
    const text = parts[part];
    if (!text) {
      problems.push(`section "## ${part}" is missing or empty`);
      continue;
    }
    const used = new Set([...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] as string));
    for (const variable of used) if (!variables.includes(variable)) problems.push(`"## ${part}" uses {{${variable}}}, which is never given (it is given: ${variables.map((v) => `{{${v}}}`).join(', ') || 'nothing'})`);
    for (const variable of variables) if (!used.has(variable)) problems.push(`"## ${part}" must use {{${variable}}}`);
  }
  for (const part of Object.keys(parts)) if (!(part in contract)) problems.push(`section "## ${part}" is not one the platform renders (${Object.keys(contract).join(', ')})`);
  return problems;
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
