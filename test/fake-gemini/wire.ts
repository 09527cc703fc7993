// Wire-format helpers shared by every route: replies as values, the Google error envelope, timestamps,
// ids and page tokens. Handlers return a Reply; only server.ts writes to the socket.
import { randomBytes } from 'node:crypto';

export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'raw'; status: number; contentType: string; body: Buffer | string; headers?: Record<string, string> }
  | { kind: 'sse'; events: readonly unknown[] };

export const JSON_TYPE = 'application/json; charset=UTF-8';

export function json(body: unknown, headers?: Record<string, string>): Reply {
  return headers ? { kind: 'json', status: 200, body, headers } : { kind: 'json', status: 200, body };
}

/** Canonical google.rpc status names by HTTP status, as the live API pairs them. */
const RPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function rpcStatusName(httpStatus: number): string {
  return RPC_STATUS[httpStatus] ?? 'UNKNOWN';
}

/** The §7.1 envelope: `{"error":{"code","message","status","details"?}}`, JSON content type. */
export function errorReply(status: number, message: string, details?: readonly unknown[]): Reply {
  const error: Record<string, unknown> = { code: status, message, status: rpcStatusName(status) };
  if (details && details.length > 0) error['details'] = details;
  return { kind: 'json', status, body: { error } };
}

export const MESSAGES = {
  400: 'Request contains an invalid argument.',
  404: 'Requested entity was not found.',
  429: 'You exceeded your current quota, please check your plan and billing details.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
} as const;

export function defaultMessage(status: number): string {
  return (MESSAGES as Record<number, string>)[status] ?? `Fake error with HTTP status ${status}.`;
}

/** 429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo, as captured from the live API. */
export function quotaReply(retryDelay: string): Reply {
  const seconds = Number.parseFloat(retryDelay);
  return errorReply(429, `${MESSAGES[429]} Please retry in ${Number.isFinite(seconds) ? seconds.toFixed(2) : retryDelay}s.`, [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_paid_tier_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
          quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
          quotaValue: '1000',
        },
      ],
    },
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
  ]);
}

/** A proxy-style HTML error page, the kind that loses the real status and details (trap §10.14). */
export function htmlErrorReply(status: number): Reply {
  const title = `${status} ${status === 503 ? 'Service Unavailable' : status === 500 ? 'Internal Server Error' : 'Error'}`;
  return {
    kind: 'raw',
    status,
    contentType: 'text/html; charset=UTF-8',
    body: `<!DOCTYPE html>\n<html lang=en><head><title>${title}</title></head><body><h1>${title}</h1><p>That's an error.</p></body></html>\n`,
  };
}

export function apiKeyInvalidReply(): Reply {
  const message = 'API key not valid. Please pass a valid API key.';
  return errorReply(400, message, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
  ]);
}

export function fileDeniedReply(id: string): Reply {
  return errorReply(403, `You do not have permission to access the File ${id} or it may not exist.`);
}

/** RFC 3339 with microseconds, like the live API (`2026-11-20T10:00:00.123000Z`). */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random id of lowercase alphanumerics (files use 12, batches 36). */
export function randomId(length: number): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += ALNUM[byte % ALNUM.length];
  return id;
}

/** An object view of a parsed JSON value, or undefined when it is not a plain object. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Proto-JSON accepts lowerCamelCase and snake_case field names alike. */
export function field(obj: Record<string, unknown> | undefined, camel: string): unknown {
  if (!obj) return undefined;
  if (camel in obj) return obj[camel];
  return obj[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

export type Page<T> = { ok: true; items: T[]; nextPageToken: string | undefined } | { ok: false; reply: Reply };

/**
 * One page of a list. The last page has no token at all: `"nextPageToken": ""` makes the SDK's pager
 * loop forever (trap §10.2).
 */
export function paginate<T>(all: readonly T[], query: URLSearchParams, defaultSize: number, maxSize: number): Page<T> {
  const rawSize = query.get('pageSize') ?? query.get('page_size');
  const size = rawSize === null || rawSize === '' ? defaultSize : Number(rawSize);
  if (!Number.isInteger(size) || size < 0) return { ok: false, reply: errorReply(400, `Invalid page size: ${rawSize}`) };
  const pageSize = Math.min(size === 0 ? defaultSize : size, maxSize);
  const token = query.get('pageToken') ?? query.get('page_token') ?? '';
  let start = 0;
  if (token !== '') {
    const decoded = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded?.[1]) return { ok: false, reply: errorReply(400, `Invalid page token: ${token}`) };
    start = Number(decoded[1]);
  }
  const items = all.slice(start, start + pageSize);
  const end = start + items.length;
  const nextPageToken = end < all.length ? Buffer.from(`offset:${end}`).toString('base64url') : undefined;
  return { ok: true, items, nextPageToken };
}
