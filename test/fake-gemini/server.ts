// The HTTP side: node:http on 127.0.0.1, one handler that reads the raw body, matches the route, logs and
// counts the request, checks the API key, applies a scripted route fault, dispatches, and writes the Reply.
// Every socket is tracked so close() ends hung and keep-alive connections at once.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BatchStore } from './batches.js';
import type { FaultPlan, RouteFaultSpec } from './faults.js';
import type { FileStore } from './files.js';
import type { LoggedRequest, Recorder } from './log.js';
import type { ModelCatalogue } from './catalogue.js';
import type { Models } from './models.js';
import { matchRoute, type RouteMatch } from './routes.js';
import type { ChunkSpoiler, Uploads } from './uploads.js';
import { apiKeyInvalidReply, defaultMessage, errorReply, htmlErrorReply, JSON_TYPE, quotaReply, type Reply } from './wire.js';

export interface ServerDeps {
  readonly recorder: Recorder;
  readonly faults: FaultPlan;
  readonly files: FileStore;
  readonly uploads: Uploads;
  readonly batches: BatchStore;
  readonly models: Models;
  readonly catalogue: ModelCatalogue;
  /** When set, every request must carry this x-goog-api-key. */
  readonly apiKey: string | undefined;
}

export class FakeServer {
  readonly #deps: ServerDeps;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  #url = '';
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(deps: ServerDeps) {
    this.#deps = deps;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (req.destroyed && !res.headersSent) return; // the client went away mid-request
        deps.recorder.errors.push(error instanceof Error ? error : new Error(String(error)));
        if (!res.headersSent && !res.destroyed) this.#send(res, errorReply(500, `fake-gemini internal error: ${String(error)}`));
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  get url(): string {
    return this.#url;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('fake-gemini: no TCP address');
    this.#url = `http://127.0.0.1:${address.port}`;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    for (const pending of this.#timers) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.#timers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { recorder, faults } = this.#deps;
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.#url);
    const method = req.method ?? 'GET';
    const match = matchRoute(method, url.pathname, url.searchParams);
    const headers = flattenHeaders(req);
    recorder.count('requests');
    recorder.count(match.route);

    let parsed: unknown;
    let parseError: string | undefined;
    if (match.route !== 'upload_chunk' && body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (e) {
        parseError = (e as Error).message;
      }
    }
    const entry: LoggedRequest = {
      seq: recorder.requests.length + 1,
      route: match.route,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      bodySize: body.length,
      json: parsed,
      status: undefined,
      fault: undefined,
    };
    recorder.requests.push(entry);
    const send = (reply: Reply): void => {
      entry.status = reply.kind === 'sse' ? 200 : reply.status;
      this.#send(res, reply);
    };

    if (this.#deps.apiKey !== undefined && headers['x-goog-api-key'] !== this.#deps.apiKey) {
      recorder.count('auth_failures');
      return send(apiKeyInvalidReply());
    }
    if (parseError !== undefined) return send(errorReply(400, `Invalid JSON payload received. ${parseError}`));
    if (match.route === 'unknown') return send(errorReply(404, `The fake has no route for ${method} ${url.pathname}.`));

    const fault = faults.takeRoute({
      route: match.route,
      method,
      path: url.pathname,
      query: url.searchParams,
      id: match.id,
      json: parsed,
      finalChunk: /\bfinalize\b/.test(headers['x-goog-upload-command'] ?? ''),
    });
    if (fault) {
      recorder.count('faults_injected');
      entry.fault = describe(fault);
    }
    const run = (spoiler: ChunkSpoiler): Reply => this.#dispatch(match, method, url.searchParams, headers, body, parsed, spoiler);
    switch (fault?.kind) {
      case undefined:
        return send(run(undefined));
      case 'hang':
        if (fault.afterHandling) run(undefined);
        return; // never answered; close() destroys the socket
      case 'destroy':
        if (fault.afterHandling) run(undefined);
        req.socket.destroy();
        return;
      case 'delay':
        await this.#sleep(fault.ms);
        if (this.#closing) return;
        return send(run(undefined));
      case 'hold':
        await fault.until.catch(() => {});
        if (this.#closing) return;
        return send(run(undefined));
      case 'error':
        if (fault.afterHandling) run(undefined);
        // Some servers quote the request back in an error: the key with it, which the client must never store.
        return send(faultReply(fault.echoKey ? { ...fault, message: `${fault.message ?? defaultMessage(fault.status)} (request key=${headers['x-goog-api-key'] ?? ''})` } : fault));
      case 'truncate': {
        const reply = run(undefined);
        if (reply.kind !== 'raw') return send(reply);
        const body = Buffer.from(reply.body);
        return send({ ...reply, body: body.subarray(0, Math.floor(body.length * fault.fraction)) });
      }
      case 'upload-final-without-file':
        return send(run('final-without-file'));
      case 'upload-no-status':
        return send(run('no-status'));
      default: {
        const never: never = fault;
        throw new Error(`unhandled route fault ${JSON.stringify(never)}`);
      }
    }
  }

  #dispatch(match: RouteMatch, method: string, query: URLSearchParams, headers: Record<string, string>, body: Buffer, parsed: unknown, spoiler: ChunkSpoiler): Reply {
    const { files, uploads, batches, models, catalogue } = this.#deps;
    // Every model route answers 404 for a model the API does not serve, as the live API does.
    if (match.model && !catalogue.find(match.model) && match.route !== 'model_get') return catalogue.notFound(match.model, match.apiVersion);
    switch (match.route) {
      case 'upload_start':
        return uploads.start(headers, parsed, this.#url, match.apiVersion);
      case 'upload_chunk':
        return uploads.chunk(match.id, headers, body, spoiler);
      case 'file_get':
        return files.get(match.id);
      case 'file_list':
        return files.list(query);
      case 'file_delete':
        return files.delete(match.id);
      case 'download':
        return files.download(match.id);
      case 'create':
        return batches.create(match.model, parsed);
      case 'batch_get':
        return batches.get(match.id);
      case 'batch_list':
        return batches.list(query);
      case 'batch_cancel':
        return batches.cancel(match.id);
      case 'batch_delete':
        return batches.delete(match.id);
      case 'generate':
        return models.generate(match.model, parsed, 'generate', query);
      case 'stream_generate':
        return models.generate(match.model, parsed, 'stream', query);
      case 'count_tokens':
        return models.countTokens(match.model, parsed);
      case 'model_get':
        return catalogue.get(match.model, match.apiVersion);
      case 'model_list':
        return catalogue.list(query);
      case 'unknown':
        return errorReply(404, `The fake has no route for ${method}.`);
      default: {
        const never: never = match.route;
        return never;
      }
    }
  }

  #send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || res.writableEnded) return;
    switch (reply.kind) {
      case 'json': {
        const text = JSON.stringify(reply.body);
        res.writeHead(reply.status, { ...reply.headers, 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      case 'raw':
        res.writeHead(reply.status, { ...reply.headers, 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) });
        res.end(reply.body);
        return;
      case 'sse':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const event of reply.events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
        res.end();
        return;
      default: {
        const never: never = reply;
        throw new Error(`unhandled reply ${JSON.stringify(never)}`);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const pending = {
        timer: setTimeout(() => {
          this.#timers.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.#timers.add(pending);
    });
  }
}

function faultReply(fault: Extract<RouteFaultSpec, { kind: 'error' }>): Reply {
  if (fault.html) return htmlErrorReply(fault.status);
  if (fault.status === 429 && fault.message === undefined) return quotaReply(fault.retryDelay ?? '1s');
  return errorReply(fault.status, fault.message ?? defaultMessage(fault.status));
}

function describe(fault: RouteFaultSpec): string {
  switch (fault.kind) {
    case 'error':
      return `error:${fault.status}${fault.html ? '-html' : ''}${fault.afterHandling ? '-after' : ''}`;
    case 'delay':
      return `delay:${fault.ms}`;
    case 'hold':
      return 'hold';
    case 'destroy':
      return fault.afterHandling ? 'destroy-after' : 'destroy';
    case 'hang':
      return fault.afterHandling ? 'hang-after' : 'hang';
    case 'upload-final-without-file':
    case 'upload-no-status':
      return fault.kind;
    case 'truncate':
      return `truncate:${fault.fraction}`;
    default: {
      const never: never = fault;
      return String(never);
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
