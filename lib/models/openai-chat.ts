import type { ChatProvider, ChatRequest, ChatResult } from './chat';
import { ProviderError } from './provider-error';

interface CompletionResponse {
  model?: string;
  choices?: { message?: { content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * Chat completions from any OpenAI-compatible endpoint (OpenAI, vLLM, TGI, Ollama, LiteLLM).
 * One attempt per call and every failure classified: the calling activity is the only retry loop.
 */
export class OpenAiChatProvider implements ChatProvider {
  constructor(private readonly options: { name: string; baseUrl: string; apiKey: string; model: string; timeoutMs?: number }) {}

  get name(): string {
    return this.options.name;
  }

  get model(): string {
    return this.options.model;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    let response: Response;
    let body: string;
    try {
      response = await fetch(`${this.options.baseUrl.replace(/\/$/, '')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
        body: JSON.stringify({ model: this.options.model, messages: request.messages, max_tokens: request.maxTokens, temperature: request.temperature ?? 0 }),
        signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
      });
      body = await response.text();
    } catch (error) {
      // Connection failures and timeouts (including a server that never answers) are transient.
      throw new ProviderError(`${this.name} request failed: ${(error as Error).message}`, this.name, 'retryable');
    }
    if (!response.ok) throw ProviderError.fromResponse(this.name, response.status, body, response.headers.get('retry-after'));
    let parsed: CompletionResponse;
    try {
      parsed = JSON.parse(body) as CompletionResponse;
    } catch {
      throw new ProviderError(`${this.name} answered ${response.status} with a body that is not JSON`, this.name, 'retryable', response.status);
    }
    const text = parsed.choices?.[0]?.message?.content;
    if (typeof text !== 'string') throw new ProviderError(`${this.name} answered without a message`, this.name, 'retryable', response.status);
    return {
      text,
      provider: this.name,
      model: parsed.model ?? this.model,
      usage: { inputTokens: parsed.usage?.prompt_tokens ?? 0, outputTokens: parsed.usage?.completion_tokens ?? 0 },
      latencyMs: Math.round(performance.now() - started),
    };
  }
}
