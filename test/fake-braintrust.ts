// A loopback Braintrust endpoint for tests: the routes the braintrust 3.35 SDK calls when it logs to a
// project (shared/reference/libraries.md §4, "Fake endpoint protocol"). It records every request and
// merges the /logs3 rows by id the way the Braintrust backend does, so tests assert on one row per span.
//
//   POST /api/apikey/login        -> {org_info:[{id, name, api_url: <this server>}]}
//   POST /api/project/register    -> {project:{id, name}}
//   GET  /api/project?id=…        -> {id, name}
//   GET  /version                 -> {}   (no logs3_payload_max_bytes: the SDK never uses overflow uploads)
//   POST /api/experiment/register -> {project:{id, name}, experiment:{id, name, created}}   (`ocrmake try`)
//   POST /logs3                   -> {}   (rows kept)
//   POST /attachment              -> {signedUrl: <this server>/upload/<key>, headers: {}}
//   PUT  /upload/<key>            -> 200
//   POST /attachment/status       -> {}
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface LoggedBtRequest {
  method: string;
  path: string;
  /** The bearer token the SDK sent (tests check it is the Braintrust key, never the Gemini key). */
  authorization: string | null;
  /** The raw body as text (gunzipped if need be). */
  body: string;
}

export type BtRow = Record<string, any>;

export interface FakeBraintrust {
  readonly url: string;
  readonly requests: readonly LoggedBtRequest[];
  /** Every row posted to /logs3, in arrival order. */
  readonly rawRows: readonly BtRow[];
  /** Rows merged by id: `_is_merge` rows patch earlier ones (objects such as metrics are shallow-merged). */
  rows(): BtRow[];
  /** Projects registered, by name. */
  readonly projects: ReadonlyMap<string, string>;
  /** Experiments registered, in order: their id, name, project and the metadata sent. */
  readonly experiments: ReadonlyArray<{ id: string; name: string; project: string; metadata: unknown }>;
  /** Unknown routes hit (should stay empty). */
  readonly unknown: readonly string[];
  close(): Promise<void>;
}

export async function startFakeBraintrust(): Promise<FakeBraintrust> {
  const requests: LoggedBtRequest[] = [];
  const rawRows: BtRow[] = [];
  const projects = new Map<string, string>();
  const experiments: Array<{ id: string; name: string; project: string; metadata: unknown }> = [];
  const unknown: string[] = [];
  const sockets = new Set<Socket>();
  let url = '';

  const server: Server = createServer((req, res) => {
    void readBody(req).then((buf) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
      const auth = req.headers['authorization'];
      requests.push({ method: req.method ?? 'GET', path, authorization: typeof auth === 'string' ? auth : null, body });
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const parsed = (): any => {
        try {
          return body ? JSON.parse(body) : {};
        } catch {
          return {};
        }
      };
      const route = `${req.method} ${path}`;
      switch (route) {
        case 'POST /api/apikey/login':
          return reply(200, { org_info: [{ id: 'org-1', name: 'test-org', api_url: url, proxy_url: url }] });
        case 'POST /api/project/register': {
          const name = String(parsed().project_name ?? 'project');
          if (!projects.has(name)) projects.set(name, `proj-${projects.size + 1}`);
          return reply(200, { project: { id: projects.get(name), name } });
        }
        case 'POST /api/experiment/register': {
          const body = parsed();
          const project = String(body.project_name ?? 'project');
          if (!projects.has(project)) projects.set(project, `proj-${projects.size + 1}`);
          const experiment = { id: `exp-${experiments.length + 1}`, name: String(body.experiment_name ?? `experiment-${experiments.length + 1}`), project, metadata: body.metadata ?? null };
          experiments.push(experiment);
          return reply(200, { project: { id: projects.get(project), name: project }, experiment: { id: experiment.id, name: experiment.name, created: new Date(0).toISOString() } });
        }
        case 'GET /api/project': {
          const id = query.get('id');
          const name = [...projects].find(([, v]) => v === id)?.[0] ?? 'project';
          return reply(200, { id, name });
        }
        case 'GET /version':
          return reply(200, {});
        case 'POST /logs3': {
          const rows = parsed().rows;
          if (Array.isArray(rows)) rawRows.push(...rows);
          return reply(200, {});
        }
        case 'POST /attachment':
          return reply(200, { signedUrl: `${url}/upload/${encodeURIComponent(String(parsed().key ?? 'attachment'))}`, headers: {} });
        case 'POST /attachment/status':
          return reply(200, {});
      }
      if (req.method === 'PUT' && path.startsWith('/upload/')) return reply(200, {});
      unknown.push(route);
      return reply(404, { error: `fake-braintrust: no route ${route}` });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake-braintrust: no TCP address');
  url = `http://127.0.0.1:${address.port}`;

  return {
    get url() {
      return url;
    },
    requests,
    rawRows,
    projects,
    experiments,
    unknown,
    rows: () => mergeRows(rawRows),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Rows merged by id, in first-seen order; a merge row shallow-merges object fields into the earlier row. */
export function mergeRows(rows: readonly BtRow[]): BtRow[] {
  const byId = new Map<string, BtRow>();
  for (const row of rows) {
    const id = String(row['id']);
    const prev = byId.get(id);
    if (!prev || !row['_is_merge']) {
      byId.set(id, { ...row });
      continue;
    }
    for (const [k, v] of Object.entries(row)) {
      const old = prev[k];
      prev[k] = isPlainObject(old) && isPlainObject(v) ? { ...old, ...v } : v;
    }
  }
  return [...byId.values()];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

/** A URL on 127.0.0.1 where nothing listens (a port just released): "Braintrust is down". */
export async function closedPortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const address = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
}
