import type { ModelCall } from '../answer/types';
import { inGenAiSpan } from '../telemetry/gen-ai-span';
import type { Metrics } from '../telemetry/metrics';
import { AnthropicChatProvider } from './anthropic-chat';
import type { ChatProvider, ChatRequest, ChatResult } from './chat';
import { CircuitBreaker } from './circuit-breaker';
import { LocalLlamaChatProvider } from './local-llama-chat';
import { OpenAiChatProvider } from './openai-chat';
import { ProviderError } from './provider-error';
import { costUsd, type ChatModelConfig } from './router';

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  /** A Retry-After longer than this is not waited for: the provider is given up for this call. */
  maxDelayMs: number;
}

export interface GatewayCallOptions {
  /** Cancellable wait between attempts (the activity's own sleep). */
  sleep: (ms: number) => Promise<void>;
  /** Called before each attempt, so long waits still heartbeat. */
  onAttempt?: (attempt: number) => void;
  /** Jitter source in [0, 1): retries of many callers after one outage spread out instead of arriving together. */
  random?: () => number;
}

/** A provider that failed for this call, with every attempt accounted for. */
export class GatewayCallFailed extends Error {
  constructor(
    readonly error: ProviderError,
    readonly calls: ModelCall[],
    /** Text already reached the caller: no other candidate may take over now. */
    readonly textStarted: boolean,
  ) {
    super(error.message);
    this.name = 'GatewayCallFailed';
  }
}

/**
 * The configured chat providers behind one call: per-provider circuit breakers, the one retry loop
 * (retryable errors back off exponentially, at least as long as Retry-After asks), and a record of
 * every attempt's tokens, cost and latency. Never switches provider: that is the workflow's walk.
 */
export class ChatGateway {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly models: Map<string, { config: ChatModelConfig; provider: ChatProvider }>,
    private readonly retry: RetryPolicy,
    breaker: { failureThreshold: number; cooldownMs: number },
    now: () => number = Date.now,
    /** Every attempt is measured as a GenAI `chat` operation; breaker states are read on scrape. */
    private readonly metrics?: Metrics,
  ) {
    for (const name of models.keys()) this.breakers.set(name, new CircuitBreaker(breaker, now));
    metrics?.watchBreakers(() => [...this.breakers].map(([name, circuit]) => [name, circuit.state]));
  }

  static fromConfig(
    configs: ChatModelConfig[],
    retry: RetryPolicy,
    breaker: { failureThreshold: number; cooldownMs: number },
    env: NodeJS.ProcessEnv,
    threads: number,
    metrics?: Metrics,
  ): ChatGateway {
    return new ChatGateway(new Map(configs.map((config) => [config.name, { config, provider: createProvider(config, env, threads) }])), retry, breaker, Date.now, metrics);
  }

  configs(): ChatModelConfig[] {
    return [...this.models.values()].map((model) => model.config);
  }

  breakerState(name: string) {
    return this.breakers.get(name)?.state;
  }

  async call(name: string, request: ChatRequest, options: GatewayCallOptions): Promise<{ result: ChatResult; calls: ModelCall[] }> {
    const entry = this.models.get(name);
    const breaker = this.breakers.get(name);
    if (!entry || !breaker) throw new GatewayCallFailed(new ProviderError(`no chat model named ${name}`, name, 'rejected'), [], false);
    const { config, provider } = entry;
    const calls: ModelCall[] = [];
    let textStarted = false;
    let firstChunkAt: number | undefined;
    const guarded: ChatRequest = {
      ...request,
      maxTokens: Math.min(request.maxTokens, config.maxOutputTokens),
      onText:
        request.onText &&
        ((delta) => {
          textStarted = true;
          firstChunkAt ??= performance.now();
          request.onText?.(delta);
        }),
    };
    const measure = (started: number, outcome: { result?: ChatResult; errorType?: string }) =>
      this.metrics?.recordGenAiCall({
        operation: 'chat',
        provider: GEN_AI_PROVIDER[config.kind],
        requestModel: config.model,
        responseModel: outcome.result?.model,
        inputTokens: outcome.result?.usage.inputTokens ?? 0,
        outputTokens: outcome.result?.usage.outputTokens,
        seconds: (performance.now() - started) / 1000,
        errorType: outcome.errorType,
        timeToFirstChunkSeconds: firstChunkAt === undefined ? undefined : (firstChunkAt - started) / 1000,
      });
    for (let attempt = 1; ; attempt++) {
      if (!breaker.tryAcquire()) {
        calls.push(skippedCall(config));
        throw new GatewayCallFailed(new ProviderError(`${name}: circuit open`, name, 'unavailable'), calls, textStarted);
      }
      options.onAttempt?.(attempt);
      const started = performance.now();
      firstChunkAt = undefined;
      try {
        const span = { operation: 'chat', provider: GEN_AI_PROVIDER[config.kind], requestModel: config.model, attributes: { 'rag.model.candidate': name, 'gen_ai.request.max_tokens': guarded.maxTokens } } as const;
        const result = await inGenAiSpan(span, async (end) => {
          const reply = await provider.chat(guarded);
          end({ responseModel: reply.model, inputTokens: reply.usage.inputTokens, outputTokens: reply.usage.outputTokens });
          return reply;
        });
        breaker.recordSuccess();
        measure(started, { result });
        const { inputTokens, outputTokens } = result.usage;
        calls.push({ provider: name, model: result.model, inputTokens, outputTokens, costUsd: costUsd(config, inputTokens, outputTokens), latencyMs: result.latencyMs, outcome: 'valid' });
        return { result, calls };
      } catch (thrown) {
        const latencyMs = Math.round(performance.now() - started);
        if (request.signal?.aborted) {
          // The caller went away: not the provider's failure, and nothing to retry.
          breaker.release();
          measure(started, { errorType: 'cancelled' });
          calls.push({ ...skippedCall(config), latencyMs, outcome: 'failed', error: `${name}: aborted` });
          throw new GatewayCallFailed(new ProviderError(`${name}: the call was cancelled`, name, 'aborted'), calls, textStarted);
        }
        const error = ProviderError.isInstance(thrown) ? thrown : new ProviderError(`${name} failed: ${(thrown as Error).message}`, name, 'retryable');
        calls.push({ ...skippedCall(config), latencyMs, outcome: 'failed', error: error.summary });
        measure(started, { errorType: error.kind });
        // Only the provider's own trouble counts against it: a request it cannot take is not an outage.
        if (error.retryable) breaker.recordFailure();
        else breaker.recordSuccess();
        const backoff = this.retry.initialDelayMs * 2 ** (attempt - 1) * (0.5 + (options.random ?? Math.random)() / 2);
        const delay = Math.max(Math.round(backoff), error.retryAfterMs ?? 0);
        if (!error.retryable || textStarted || attempt >= this.retry.maxAttempts || delay > this.retry.maxDelayMs) {
          throw new GatewayCallFailed(error, calls, textStarted);
        }
        await options.sleep(delay);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map(({ provider }) => provider.close?.()));
  }
}

/** The GenAI conventions' `gen_ai.provider.name`: their well-known values, and the runtime for local models. */
const GEN_AI_PROVIDER: Record<ChatModelConfig['kind'], string> = { openai: 'openai', anthropic: 'anthropic', local: 'llama.cpp' };

const skippedCall = (config: ChatModelConfig): ModelCall => ({
  provider: config.name,
  model: config.model,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  latencyMs: 0,
  outcome: 'skipped_circuit_open',
});

function createProvider(config: ChatModelConfig, env: NodeJS.ProcessEnv, threads: number): ChatProvider {
  const apiKey = config.apiKeyEnv ? env[config.apiKeyEnv] ?? '' : '';
  const common = { name: config.name, model: config.model, timeoutMs: config.timeoutMs };
  switch (config.kind) {
    case 'openai':
      return new OpenAiChatProvider({ ...common, baseUrl: config.baseUrl ?? 'https://api.openai.com/v1', apiKey });
    case 'anthropic':
      return new AnthropicChatProvider({ ...common, baseUrl: config.baseUrl ?? 'https://api.anthropic.com', apiKey });
    case 'local':
      if (!config.modelPath) throw new Error(`chat model ${config.name}: a local model needs modelPath`);
      return new LocalLlamaChatProvider({ name: config.name, model: config.model, modelPath: config.modelPath, contextTokens: config.contextTokens, threads });
  }
}
