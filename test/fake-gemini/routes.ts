// Maps method + path to a route name (§9). Every route is served under v1beta, v1 and v1alpha, always at
// the server root: upload chunks ignore a baseUrl path prefix (trap §10.6), so the fake has none.

export const ROUTE_NAMES = [
  'upload_start',
  'upload_chunk',
  'file_get',
  'file_list',
  'file_delete',
  'download',
  'create',
  'batch_get',
  'batch_list',
  'batch_cancel',
  'batch_delete',
  'generate',
  'stream_generate',
  'count_tokens',
  'model_get',
  'model_list',
] as const;

export type RouteName = (typeof ROUTE_NAMES)[number];

export interface RouteMatch {
  readonly route: RouteName | 'unknown';
  readonly apiVersion: string;
  /** File or batch id, without its `files/` or `batches/` prefix. */
  readonly id: string;
  /** `models/<m>` or `tunedModels/<m>` for model routes. */
  readonly model: string;
}

const V = '(v1beta|v1|v1alpha)';
const TABLE: ReadonlyArray<{ method: string; re: RegExp; route: RouteName }> = [
  { method: 'GET', re: new RegExp(`^/(?:download/)?${V}/files/([a-z0-9-]+):download$`), route: 'download' },
  { method: 'GET', re: new RegExp(`^/${V}/files/([a-z0-9-]+)$`), route: 'file_get' },
  { method: 'DELETE', re: new RegExp(`^/${V}/files/([a-z0-9-]+)$`), route: 'file_delete' },
  { method: 'GET', re: new RegExp(`^/${V}/files$`), route: 'file_list' },
  { method: 'GET', re: new RegExp(`^/${V}/batches/([a-z0-9-]+)$`), route: 'batch_get' },
  { method: 'DELETE', re: new RegExp(`^/${V}/batches/([a-z0-9-]+)$`), route: 'batch_delete' },
  { method: 'POST', re: new RegExp(`^/${V}/batches/([a-z0-9-]+):cancel$`), route: 'batch_cancel' },
  { method: 'GET', re: new RegExp(`^/${V}/batches$`), route: 'batch_list' },
  { method: 'GET', re: new RegExp(`^/${V}/models$`), route: 'model_list' },
];
const MODEL_GET_RE = new RegExp(`^/${V}/((?:models|tunedModels)/[^/:]+)$`);
const MODEL_RE = new RegExp(`^/${V}/((?:models|tunedModels)/[^/:]+):(batchGenerateContent|generateContent|streamGenerateContent|countTokens)$`);
const MODEL_ROUTES: Record<string, RouteName> = {
  batchGenerateContent: 'create',
  generateContent: 'generate',
  streamGenerateContent: 'stream_generate',
  countTokens: 'count_tokens',
};

export function matchRoute(method: string, pathname: string, query: URLSearchParams): RouteMatch {
  const upload = new RegExp(`^/upload/${V}/files$`).exec(pathname);
  if (upload?.[1] && method === 'POST') {
    return { route: query.has('upload_id') ? 'upload_chunk' : 'upload_start', apiVersion: upload[1], id: query.get('upload_id') ?? '', model: '' };
  }
  const model = MODEL_RE.exec(pathname);
  if (model?.[1] && model[2] && model[3] && method === 'POST') {
    return { route: MODEL_ROUTES[model[3]] ?? 'unknown', apiVersion: model[1], id: '', model: model[2] };
  }
  const got = MODEL_GET_RE.exec(pathname);
  if (got?.[1] && got[2] && method === 'GET') return { route: 'model_get', apiVersion: got[1], id: '', model: got[2] };
  for (const row of TABLE) {
    const m = row.re.exec(pathname);
    if (m?.[1] && method === row.method) return { route: row.route, apiVersion: m[1], id: m[2] ?? '', model: '' };
  }
  return { route: 'unknown', apiVersion: '', id: '', model: '' };
}
