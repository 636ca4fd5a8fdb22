import { z } from 'zod';

/**
 * Chat model candidates as configured (CHAT_MODELS, JSON). API keys are never in this config: each
 * entry names the environment variable that holds its key.
 */
export const chatModelConfig = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/),
  kind: z.enum(['openai', 'anthropic', 'local']),
  model: z.string().min(1),
  baseUrl: z.string().url().optional(),
  apiKeyEnv: z.string().optional(),
  modelPath: z.string().optional(),
  tasks: z.array(z.enum(['answer'])).default(['answer']),
  contextTokens: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive().default(400),
  costPerMillionInputUsd: z.number().min(0).default(0),
  costPerMillionOutputUsd: z.number().min(0).default(0),
  typicalLatencyMs: z.number().int().min(0).default(1000),
  timeoutMs: z.number().int().positive().default(30_000),
});
export type ChatModelConfig = z.infer<typeof chatModelConfig>;

export type RoutingPolicy = 'configured' | 'cheapest' | 'fastest';
export type Task = ChatModelConfig['tasks'][number];

export interface Route {
  /** Candidate names in the order the workflow tries them. */
  candidates: string[];
  /** Candidates left out, and why. */
  skipped: string[];
}

/**
 * Orders the candidates able to take a task of about `inputTokens`: those whose context window is
 * too small are left out, the rest ordered as configured, by estimated cost, or by typical latency
 * (a `preferred` candidate that fits goes first).
 */
export interface RouteOptions {
  /** An experiment variant's model: first when it fits and is allowed. */
  preferred?: string;
  /** The tenant's allow-list; null or unset: every configured model. */
  allowed?: readonly string[] | null;
  /** Latency measured from real calls, by candidate name; what `fastest` orders by where known. */
  measuredLatencyMs?: ReadonlyMap<string, number>;
}

export function route(models: ChatModelConfig[], task: Task, inputTokens: number, policy: RoutingPolicy, options: RouteOptions = {}): Route {
  const { preferred, allowed, measuredLatencyMs } = options;
  const forbidden = allowed ? models.filter((model) => !allowed.includes(model.name)) : [];
  const able = models.filter((model) => model.tasks.includes(task) && !forbidden.includes(model));
  const fitting = able.filter((model) => model.contextTokens >= inputTokens + model.maxOutputTokens);
  const skipped = [
    ...forbidden.map((model) => `${model.name}: not on this tenant's allow-list`),
    ...able.filter((model) => !fitting.includes(model)).map((model) => `${model.name}: about ${inputTokens} input tokens exceed its context window of ${model.contextTokens}`),
  ];
  const latency = (model: ChatModelConfig) => measuredLatencyMs?.get(model.name) ?? model.typicalLatencyMs;
  const cost = (model: ChatModelConfig) =>
    inputTokens * model.costPerMillionInputUsd + model.maxOutputTokens * model.costPerMillionOutputUsd;
  const ordered =
    policy === 'cheapest' ? [...fitting].sort((a, b) => cost(a) - cost(b))
    : policy === 'fastest' ? [...fitting].sort((a, b) => latency(a) - latency(b))
    : fitting;
  const names = ordered.map((model) => model.name);
  // An experiment's variant puts its model first; the others stay behind it as fallbacks.
  const first = preferred && names.includes(preferred) ? [preferred, ...names.filter((name) => name !== preferred)] : names;
  return { candidates: first, skipped };
}

export function costUsd(model: Pick<ChatModelConfig, 'costPerMillionInputUsd' | 'costPerMillionOutputUsd'>, inputTokens: number, outputTokens: number): number {
  return (inputTokens * model.costPerMillionInputUsd + outputTokens * model.costPerMillionOutputUsd) / 1_000_000;
}
