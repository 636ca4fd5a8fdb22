import type { ChatProvider, ChatRequest, ChatResult } from './chat';
import { ProviderError } from './provider-error';
import { joinUrl, postToProvider } from './provider-http';

interface MessagesResponse {
  model?: string;
  content?: { type: string; text?: string }[];
  usage?: { input_tokens?: number; output_tokens?: number };
}

/**
 * Anthropic's Messages API. One attempt per call, every failure classified (529 "overloaded" is a
 * 5xx, so it retries); the calling activity is the only retry loop. The answer arrives whole and
 * is handed to `onText` once.
 */
export class AnthropicChatProvider implements ChatProvider {
  constructor(private readonly options: { name: string; baseUrl: string; apiKey: string; model: string; timeoutMs?: number }) {}

  get name(): string {
    return this.options.name;
  }

  get model(): string {
    return this.options.model;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    const system = request.messages.filter((message) => message.role === 'system').map((message) => message.content).join('\n\n');
    const messages = request.messages.filter((message) => message.role !== 'system');
    const { json } = await postToProvider<MessagesResponse>({
      provider: this.name,
      url: joinUrl(this.options.baseUrl, '/v1/messages'),
      headers: { 'x-api-key': this.options.apiKey, 'anthropic-version': '2023-06-01' },
      body: { model: this.options.model, max_tokens: request.maxTokens, temperature: request.temperature ?? 0, ...(system ? { system } : {}), messages },
      timeoutMs: this.options.timeoutMs ?? 60_000,
      signal: request.signal,
    });
    const texts = json.content?.filter((block) => block.type === 'text' && typeof block.text === 'string');
    if (!texts?.length) throw new ProviderError(`${this.name} answered without text content`, this.name, 'retryable');
    const text = texts.map((block) => block.text).join('');
    request.onText?.(text);
    return {
      text,
      provider: this.name,
      model: json.model ?? this.model,
      usage: { inputTokens: json.usage?.input_tokens ?? 0, outputTokens: json.usage?.output_tokens ?? 0 },
      latencyMs: Math.round(performance.now() - started),
    };
  }
}
