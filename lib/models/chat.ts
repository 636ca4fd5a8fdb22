/** One interface for every chat model the gateway can route to. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  signal?: AbortSignal;
}

export interface ChatResult {
  text: string;
  provider: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  latencyMs: number;
}

export interface ChatProvider {
  /** Unique per configured endpoint: the circuit breaker and accounting key. */
  readonly name: string;
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatResult>;
}
