import { existsSync } from 'node:fs';
import type { Llama, LlamaContext, LlamaGrammar, LlamaModel } from 'node-llama-cpp';
import type { ChatMessage, ChatProvider, ChatRequest, ChatResult } from './chat';
import { ProviderError } from './provider-error';

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
}

/**
 * A small GGUF chat model run in-process by node-llama-cpp (prebuilt CPU binary from npm, never a
 * build or a download). Loaded on first use; one context sequence, so calls queue one at a time.
 * Prompts that do not fit the context fail as `context_window`, which sends the router onwards.
 */
export class LocalLlamaChatProvider implements ChatProvider {
  private loading?: Promise<Loaded>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly options: { name: string; model: string; modelPath: string; contextTokens: number; threads: number }) {}

  get name(): string {
    return this.options.name;
  }

  get model(): string {
    return this.options.model;
  }

  chat(request: ChatRequest): Promise<ChatResult> {
    const run = this.queue.then(() => this.generate(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (!this.loading) return;
    const { llama, model, context } = await this.loading;
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }

  private async generate(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    const { llama, model, context } = await this.load();
    const { LlamaChatSession } = await import('node-llama-cpp');
    const system = request.messages.find((message) => message.role === 'system')?.content;
    const turns = request.messages.filter((message) => message.role !== 'system');
    const last = turns.at(-1);
    if (last?.role !== 'user') throw new ProviderError(`${this.name}: the last message must be the user's`, this.name, 'rejected');

    const inputTokens = model.tokenize(request.messages.map((message) => message.content).join('\n')).length;
    if (inputTokens + request.maxTokens > this.options.contextTokens) {
      throw new ProviderError(
        `${this.name}: prompt of ${inputTokens} tokens plus ${request.maxTokens} to generate exceeds the context window of ${this.options.contextTokens}`,
        this.name,
        'context_window',
      );
    }
    const sequence = context.getSequence();
    const session = new LlamaChatSession({ contextSequence: sequence, systemPrompt: system, autoDisposeSequence: false });
    try {
      session.setChatHistory([...(system ? [{ type: 'system' as const, text: system }] : []), ...history(turns.slice(0, -1))]);
      const grammar = request.jsonSchema ? await this.grammarFor(llama, request.jsonSchema) : undefined;
      const text = await session.prompt(last.content, {
        maxTokens: request.maxTokens,
        temperature: request.temperature ?? 0,
        grammar,
        signal: request.signal,
        onTextChunk: request.onText,
      });
      return {
        text,
        provider: this.name,
        model: this.model,
        usage: { inputTokens, outputTokens: model.tokenize(text).length },
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      if (ProviderError.isInstance(error)) throw error;
      throw new ProviderError(`${this.name} failed: ${(error as Error).message}`, this.name, 'retryable');
    } finally {
      session.dispose();
      await sequence.dispose();
    }
  }

  private load(): Promise<Loaded> {
    this.loading ??= (async () => {
      if (!existsSync(this.options.modelPath)) {
        throw new ProviderError(`${this.name}: model file ${this.options.modelPath} is missing; run \`npm run setup\``, this.name, 'rejected');
      }
      const { getLlama } = await import('node-llama-cpp');
      const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false });
      const model = await llama.loadModel({ modelPath: this.options.modelPath });
      const context = await model.createContext({ contextSize: this.options.contextTokens, threads: this.options.threads });
      return { llama, model, context };
    })();
    // A failed load is retried on the next call rather than remembered forever.
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  private grammarFor(llama: Llama, schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      // The schema is our own (see lib/answer), within the subset node-llama-cpp's grammar supports.
      grammar = llama.createGrammarForJsonSchema(schema as never);
      this.grammars.set(key, grammar);
    }
    return grammar;
  }
}

/** Earlier turns (a repair request carries the first answer) in node-llama-cpp's history form. */
function history(turns: ChatMessage[]) {
  return turns.map((turn) =>
    turn.role === 'assistant' ? { type: 'model' as const, response: [turn.content] } : { type: 'user' as const, text: turn.content },
  );
}
