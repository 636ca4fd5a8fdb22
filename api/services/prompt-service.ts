import { createTwoFilesPatch } from 'diff';
import { PlatformError } from '../../lib/errors';
import type { PromptRegistry } from '../../lib/prompts/prompt-registry';
import { PROMPT_CONTRACTS, contentHashOf, promptProblems } from '../../lib/prompts/prompt-template';
import type { AuditLog } from '../../lib/stores/audit-log';
import type { LabelMove } from '../../lib/stores/prompt-store';
import type { Caller } from '../plugins/auth';
import { DEFAULT_LABEL } from '../../lib/prompts/prompt-ref';
import { requirePlatformAdmin } from './admin-service';
import type { DeploymentService } from './deployment-service';

const promptNotFound = (name: string) => new PlatformError('prompt_not_found', `no prompt ${name}; the platform renders ${Object.keys(PROMPT_CONTRACTS).join(', ')}`, 404);
const versionNotFound = (name: string, version: number) => new PlatformError('prompt_version_not_found', `prompt ${name} has no version ${version}`, 404);

/**
 * The prompt registry over HTTP: any admin reads prompts, versions, diffs and label histories;
 * only operators add versions and move labels (prompts serve every tenant), each write in the
 * audit log. A new version must render: its sections and variables are checked against what the
 * platform fills in.
 */
export class PromptService {
  constructor(
    private readonly prompts: PromptRegistry,
    private readonly audit: AuditLog,
    private readonly deployments: DeploymentService,
  ) {}

  async list() {
    const names = await this.prompts.store.names();
    return Promise.all(names.map((name) => this.summary(name)));
  }

  async get(name: string) {
    this.contractOf(name);
    const summary = await this.summary(name);
    return { ...summary, versions: await this.prompts.store.versions(name) };
  }

  async version(name: string, version: number) {
    this.contractOf(name);
    const found = await this.prompts.store.version(name, version);
    if (!found) throw versionNotFound(name, version);
    return found;
  }

  async addVersion(caller: Caller, name: string, body: { content: string; note?: string }) {
    requirePlatformAdmin(caller, 'add prompt versions');
    const problems = promptProblems(body.content, this.contractOf(name));
    if (problems.length > 0) throw new PlatformError('invalid_prompt', `the prompt would not render: ${problems.join('; ')}`, 422, { problems });
    const author = caller.principal.keyId ?? 'anonymous';
    const { version, created } = await this.prompts.store.addVersion(name, body.content, contentHashOf(body.content), author, body.note ?? null);
    if (created) await this.record(caller, 'prompt_version_created', name, { version: version.version, contentHash: version.contentHash, note: version.note });
    return { ...version, created };
  }

  async diff(name: string, from: number, to: number) {
    const [a, b] = await Promise.all([this.version(name, from), this.version(name, to)]);
    return { name, from, to, diff: createTwoFilesPatch(`${name}@v${from}`, `${name}@v${to}`, a.content, b.content, a.contentHash, b.contentHash) };
  }

  async moveLabel(caller: Caller, name: string, label: string, body: { version: number; reason?: string }) {
    requirePlatformAdmin(caller, 'move prompt labels');
    await this.version(name, body.version);
    // What every answer uses moves only through the evaluation gate.
    if (label === DEFAULT_LABEL) {
      throw new PlatformError('promotion_required', `the ${DEFAULT_LABEL} label moves only through POST /v1/prompts/${name}/labels/${DEFAULT_LABEL}/promotions, which evaluates the version first`, 409);
    }
    const move = (await this.prompts.store.moveLabel(name, label, body.version, { kind: 'move', actor: caller.principal.keyId ?? 'anonymous', reason: body.reason ?? null })) as LabelMove;
    await this.record(caller, 'prompt_label_moved', `${name}:${label}`, { from: move.fromVersion, to: move.toVersion, reason: move.reason });
    return { name, ...move };
  }

  /** Back to the version the label pointed at before its last move (a rollback of a rollback goes forward again). */
  async rollback(caller: Caller, name: string, label: string, body: { reason?: string }) {
    requirePlatformAdmin(caller, 'roll prompt labels back');
    this.contractOf(name);
    const [last] = await this.prompts.store.history(name, label, 1);
    if (!last) throw new PlatformError('prompt_label_not_found', `prompt ${name} has no label "${label}"`, 404);
    if (last.fromVersion === null) throw new PlatformError('nothing_to_roll_back', `label "${label}" of ${name} has pointed at version ${last.toVersion} since it was created`, 409, { version: last.toVersion });
    const move = (await this.prompts.store.moveLabel(name, label, last.fromVersion, { kind: 'rollback', actor: caller.principal.keyId ?? 'anonymous', reason: body.reason ?? null })) as LabelMove;
    await this.record(caller, 'prompt_label_rolled_back', `${name}:${label}`, { from: move.fromVersion, to: move.toVersion, reason: move.reason });
    await this.deployments.record({
      kind: 'prompt_label',
      target: `${name}:${label}`,
      fromVersion: String(move.fromVersion),
      toVersion: String(move.toVersion),
      decision: 'rolled_back',
      report: null,
      approvedBy: caller.principal.keyId,
      reason: move.reason,
      workflowId: null,
    });
    return { name, ...move };
  }

  async history(name: string, label: string, limit: number) {
    this.contractOf(name);
    const moves = await this.prompts.store.history(name, label, limit);
    if (moves.length === 0) throw new PlatformError('prompt_label_not_found', `prompt ${name} has no label "${label}"`, 404);
    return { name, label, moves };
  }

  private async summary(name: string) {
    const versions = await this.prompts.store.versions(name);
    const labels = await this.prompts.store.labels(name);
    return { name, latestVersion: versions.at(-1)?.version ?? null, labels };
  }

  private contractOf(name: string): Record<string, readonly string[]> {
    // Own keys only: "constructor" is a valid name and no prompt.
    if (!Object.hasOwn(PROMPT_CONTRACTS, name)) throw promptNotFound(name);
    return PROMPT_CONTRACTS[name] as Record<string, readonly string[]>;
  }

  private async record(caller: Caller, action: string, target: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.append({ tenantId: caller.principal.tenantId, actor: caller.principal.keyId, requestId: caller.requestId, category: 'admin', action, target, details });
  }
}
