import type { ChatProvider, ChatRequest, ChatResult } from './chat';
import { ProviderError } from './provider-error';
import { joinUrl, postToProvider, sendToProvider } from './provider-http';

interface CompletionResponse {
  model?: string;
  choices?: { message?: { content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

interface CompletionChunk {
  model?: string;
  choices?: { delta?: { content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

/**
 * Chat completions from any OpenAI-compatible endpoint (OpenAI, vLLM, TGI, Ollama, LiteLLM),
 * streamed as server-sent events when the caller wants the text as it comes.
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
    const post = {
      provider: this.name,
      url: joinUrl(this.options.baseUrl, '/chat/completions'),
      headers: { authorization: `Bearer ${this.options.apiKey}` },
      timeoutMs: this.options.timeoutMs ?? 60_000,
      signal: request.signal,
    };
    const body = { model: this.options.model, messages: request.messages, max_tokens: request.maxTokens, temperature: request.temperature ?? 0 };
    const { text, model, usage } = request.onText
      ? await this.stream(await sendToProvider({ ...post, body: { ...body, stream: true, stream_options: { include_usage: true } } }), request.onText)
      : this.read((await postToProvider<CompletionResponse>({ ...post, body })).json);
    return { text, provider: this.name, model: model ?? this.model, usage, latencyMs: Math.round(performance.now() - started) };
  }

  private read(response: CompletionResponse) {
    const text = response.choices?.[0]?.message?.content;
    if (typeof text !== 'string') throw new ProviderError(`${this.name} answered without a message`, this.name, 'retryable');
    return { text, model: response.model, usage: usageOf(response.usage) };
  }

  /** Server-sent events: `data: {chunk}` lines, ending with `data: [DONE]`. */
  private async stream(response: Response, onText: (delta: string) => void) {
    let text = '';
    let model: string | undefined;
    let usage = usageOf(undefined);
    let done = false;
    let buffer = '';
    // One decoder for the whole stream: a character split between two network chunks arrives whole.
    const decoder = new TextDecoder('utf-8');
    try {
      for await (const bytes of response.body ?? []) {
        buffer += decoder.decode(bytes, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          const chunk = JSON.parse(data) as CompletionChunk;
          model ??= chunk.model;
          if (chunk.usage) usage = usageOf(chunk.usage);
          const delta = chunk.choices?.[0]?.delta?.content;
          if (delta) {
            text += delta;
            onText(delta);
          }
        }
      }
    } catch (error) {
      throw new ProviderError(`${this.name} stream broke off: ${(error as Error).message}`, this.name, 'retryable');
    }
    if (!done) throw new ProviderError(`${this.name} stream ended without [DONE]`, this.name, 'retryable');
    return { text, model, usage };
  }
}

const usageOf = (usage: CompletionResponse['usage']) => ({ inputTokens: usage?.prompt_tokens ?? 0, outputTokens: usage?.completion_tokens ?? 0 });
