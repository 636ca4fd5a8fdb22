import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the next request gets. */
export type Behaviour =
  | { reply: string }
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { malformed: true }
  | { hang: true };

/**
 * A real HTTP server on loopback that speaks the OpenAI chat-completions API and misbehaves on
 * command: the one fake allowed, at the edge of the world, to prove classification and failover.
 */
export class FakeOpenAiServer {
  readonly requests: { path: string; body: any }[] = [];
  private readonly queue: Behaviour[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  url = '';

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
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    this.requests.push({ path: request.url ?? '', body });
    const behaviour = this.queue.shift() ?? { reply: 'ok' };
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
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        model: body?.model ?? 'fake-model',
        choices: [{ index: 0, message: { role: 'assistant', content: behaviour.reply }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      }),
    );
  }
}
