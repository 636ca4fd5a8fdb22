import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the next request gets. */
export type Behaviour =
  | { reply: string }
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { malformed: true }
  | { hang: true }
  /** Streams the normal reply but for its last `breakStreamBeforeEnd` pieces, then drops the connection. */
  | { breakStreamBeforeEnd: number }
  /** Streams this reply with every multi-byte character cut between two network writes. */
  | { splitCharacters: string };

/**
 * A real HTTP server on loopback that speaks the OpenAI chat-completions API (JSON or streamed as
 * server-sent events) and Anthropic's Messages API, and misbehaves on command: the one fake
 * allowed, at the edge of the world, to prove classification and failover.
 */
export class FakeOpenAiServer {
  readonly requests: { path: string; body: any }[] = [];
  private readonly queue: Behaviour[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  /** `answer` writes the reply for requests without a queued behaviour (default "ok"). */
  constructor(private readonly answer: (body: any) => string = () => 'ok') {}

  /** Behaviours for the next requests, in order; afterwards requests succeed. */
  next(...behaviours: Behaviour[]): void {
    this.queue.push(...behaviours);
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    this.requests.push({ path: request.url ?? '', body });
    const behaviour = this.queue.shift() ?? { reply: this.answer(body) };
    if ('hang' in behaviour) {
      this.hanging.add(response);
      return;
    }
    if ('malformed' in behaviour) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [ {"message": ');
      return;
    }
    if ('status' in behaviour) {
      response.writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers }).end(JSON.stringify(behaviour.body));
      return;
    }
    const reply = 'reply' in behaviour ? behaviour.reply : this.answer(body);
    if (request.url?.endsWith('/messages')) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ model: body?.model, content: [{ type: 'text', text: reply }], usage: { input_tokens: 12, output_tokens: 3 } }),
      );
      return;
    }
    if (body?.stream && 'splitCharacters' in behaviour) {
      void this.streamSplit(response, body.model, behaviour.splitCharacters);
      return;
    }
    if (body?.stream) {
      this.stream(response, body.model, reply, 'breakStreamBeforeEnd' in behaviour ? behaviour.breakStreamBeforeEnd : undefined);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        model: body?.model ?? 'fake-model',
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      }),
    );
  }

  private async streamSplit(response: ServerResponse, model: string, reply: string): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const events = [...reply].map((c) => `data: ${JSON.stringify({ model, choices: [{ index: 0, delta: { content: c } }] })}\n\n`);
    events.push(`data: ${JSON.stringify({ model, choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } })}\n\ndata: [DONE]\n\n`);
    const bytes = Buffer.from(events.join(''), 'utf8');
    // Cut after the first byte of every multi-byte sequence; the pause keeps the writes apart on the wire.
    let from = 0;
    for (let i = 0; i < bytes.length; i++) {
      if ((bytes[i] as number) >= 0xc0) {
        response.write(bytes.subarray(from, i + 1));
        from = i + 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    response.end(bytes.subarray(from));
  }

  private stream(response: ServerResponse, model: string, reply: string, breakBeforeEnd: number | undefined): void {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const pieces = reply.match(/.{1,8}/gs) ?? [];
    const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    const sent = pieces.slice(0, pieces.length - (breakBeforeEnd ?? 0));
    for (const piece of sent) event({ model, choices: [{ index: 0, delta: { content: piece } }] });
    if (breakBeforeEnd !== undefined) {
      // Let the pieces reach the client first: the break must come mid-stream, not before it.
      setTimeout(() => response.destroy(), 50);
      return;
    }
    event({ model, choices: [], usage: { prompt_tokens: 12, completion_tokens: pieces.length } });
    response.end('data: [DONE]\n\n');
  }
}

/**
 * Replies as a good model would to the grounded-answer prompt: quotes the first sentence of
 * source 1 and answers with it.
 */
export function groundedReply(body: any): string {
  const prompt: string = (body?.messages ?? []).filter((message: any) => message.role === 'user').at(0)?.content ?? '';
  const source = /\[1\] (?:\([^)]*\) )?([\s\S]*?)(?:\n\n\[2\]|\n\nQuestion:)/.exec(prompt)?.[1] ?? '';
  const sentence = (/^[\s\S]*?[.!?](?=\s|$)/.exec(source.replace(/^#.*\n+/, ''))?.[0] ?? source).trim();
  return JSON.stringify({ found: true, citations: [{ source: 1, quote: sentence }], answer: sentence });
}
