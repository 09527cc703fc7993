// Renders a batch as the long-running Operation of §5.2: int64 counts as strings with zeros omitted, no
// `done` key while active, and on success the output in BOTH metadata.output and the top-level response
// (the SDK reads only metadata.output, trap §10.11).
import type { Outcome } from './responses.js';
import { timestamp } from './wire.js';

export type BatchState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

export const TERMINAL: ReadonlySet<BatchState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED']);

const TYPE_PREFIX = 'type.googleapis.com/google.ai.generativelanguage.v1main';

/** The parts of a batch the Operation shows. */
export interface OperationView {
  readonly name: string;
  readonly model: string;
  readonly displayName: string | undefined;
  readonly inputConfig: Record<string, unknown>;
  readonly state: BatchState;
  readonly requestCount: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | undefined;
  readonly outputFile: string | undefined;
  readonly outcomes: readonly Outcome[] | undefined;
  readonly metadata: ReadonlyArray<Record<string, unknown> | undefined>;
}

export function renderOperation(batch: OperationView, forList: boolean): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    '@type': `${TYPE_PREFIX}.GenerateContentBatch`,
    name: batch.name,
    model: batch.model,
    ...(batch.displayName !== undefined ? { displayName: batch.displayName } : {}),
    // List replies leave out inline payloads, as the live list does for outputs.
    inputConfig: forList && 'requests' in batch.inputConfig ? {} : batch.inputConfig,
    createTime: timestamp(batch.createdAt),
    updateTime: timestamp(batch.updatedAt),
    ...(batch.endedAt !== undefined ? { endTime: timestamp(batch.endedAt) } : {}),
    batchStats: stats(batch),
    state: `BATCH_STATE_${batch.state}`,
  };
  const operation: Record<string, unknown> = { name: batch.name, metadata };
  if (!TERMINAL.has(batch.state)) return operation;
  operation['done'] = true;
  const output = batch.state === 'SUCCEEDED' ? renderOutput(batch, forList) : undefined;
  if (output) {
    metadata['output'] = output;
    operation['response'] = { '@type': `${TYPE_PREFIX}.GenerateContentBatchOutput`, ...output };
  }
  const error = batchError(batch.state);
  if (error) operation['error'] = error;
  return operation;
}

function renderOutput(batch: OperationView, forList: boolean): Record<string, unknown> | undefined {
  if (batch.outputFile !== undefined) return { responsesFile: batch.outputFile };
  if (forList || !batch.outcomes) return undefined;
  const inlinedResponses: Array<Record<string, unknown>> = [];
  batch.outcomes.forEach((outcome, i) => {
    const metadata = batch.metadata[i];
    const meta = metadata ? { metadata } : {};
    if (outcome.kind === 'response') inlinedResponses.push({ response: outcome.response, ...meta });
    else if (outcome.kind === 'error') inlinedResponses.push({ error: outcome.error, ...meta });
    else if (outcome.kind === 'key-only') inlinedResponses.push({ ...meta });
  });
  return { inlinedResponses: { inlinedResponses } };
}

function batchError(state: BatchState): { code: number; message: string } | undefined {
  switch (state) {
    case 'FAILED':
      return { code: 13, message: 'Batch failed: an internal error has occurred.' };
    case 'CANCELLED':
      return { code: 1, message: 'Batch was cancelled.' };
    case 'EXPIRED':
      return { code: 4, message: 'Batch expired: it was pending or running for more than 48 hours.' };
    case 'PENDING':
    case 'RUNNING':
    case 'SUCCEEDED':
      return undefined;
    default: {
      const never: never = state;
      return never;
    }
  }
}

function stats(batch: OperationView): Record<string, string> {
  const n = batch.requestCount;
  let succeeded = 0;
  let failed = 0;
  let pending = 0;
  switch (batch.state) {
    case 'PENDING':
    case 'CANCELLED':
    case 'EXPIRED':
      pending = n;
      break;
    case 'RUNNING':
      succeeded = Math.floor(n / 2);
      pending = n - succeeded;
      break;
    case 'FAILED':
      failed = n;
      break;
    case 'SUCCEEDED':
      for (const o of batch.outcomes ?? []) {
        if (o.kind === 'error') failed += 1;
        else succeeded += 1;
      }
      break;
    default: {
      const never: never = batch.state;
      return never;
    }
  }
  const out: Record<string, string> = { requestCount: String(n) };
  if (succeeded > 0) out['successfulRequestCount'] = String(succeeded);
  if (failed > 0) out['failedRequestCount'] = String(failed);
  if (pending > 0) out['pendingRequestCount'] = String(pending);
  return out;
}
