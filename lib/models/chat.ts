/** One interface for every chat model the gateway can route to. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  /**
   * The JSON shape the answer must have. Providers that can constrain decoding use it (a grammar
   * for the local model, JSON mode for OpenAI-compatible servers); the caller validates anyway.
   */
  jsonSchema?: Record<string, unknown>;
  /** Receives the answer as it is generated; providers that cannot stream call it once. */
  onText?: (delta: string) => void;
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
  close?(): Promise<void>;
}
