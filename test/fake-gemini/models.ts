// The interactive model routes: generateContent, streamGenerateContent and countTokens. They share the
// replier and the record faults with batches, matched by predicate since they carry no key.
import type { FaultPlan } from './faults.js';
import type { FileStore } from './files.js';
import type { Recorder } from './log.js';
import type { Replier } from './replies.js';
import { buildRequest, promptTokens, type RequestVia } from './requests.js';
import { emptyResponse, httpStatusOf, renderOutcome, streamChunks, type RenderOptions } from './responses.js';
import { asObject, errorReply, field, json, type Reply } from './wire.js';

export interface ModelDeps {
  readonly files: FileStore;
  readonly faults: FaultPlan;
  readonly recorder: Recorder;
  readonly replier: Replier;
  readonly render: RenderOptions;
}

export class Models {
  readonly #deps: ModelDeps;

  constructor(deps: ModelDeps) {
    this.#deps = deps;
  }

  generate(model: string, body: unknown, via: Extract<RequestVia, 'generate' | 'stream'>, query: URLSearchParams): Reply {
    const { files, faults, recorder, replier, render } = this.#deps;
    const built = buildRequest(asObject(body) ?? {}, { model, key: undefined, via, batch: undefined }, files);
    if (!built.ok) return errorReply(built.httpStatus, built.message);
    const request = built.request;
    const outcome = renderOutcome(request, replier(request), faults.takeRecord(request), render);
    recorder.records.push({
      key: undefined,
      via,
      batch: undefined,
      model,
      imageSha256: request.imageSha256,
      context: request.context,
      contextHash: request.contextHash,
      outcome: outcome.kind,
    });
    recorder.count('records');
    if (outcome.kind === 'error') return errorReply(httpStatusOf(outcome.error.code), outcome.error.message);
    const response = outcome.kind === 'response' ? outcome.response : emptyResponse(request, render);
    if (via === 'generate') return json(response);
    const chunks = streamChunks(response);
    return query.get('alt') === 'sse' ? { kind: 'sse', events: chunks } : json(chunks);
  }

  countTokens(model: string, body: unknown): Reply {
    const obj = asObject(body) ?? {};
    const inner = asObject(field(obj, 'generateContentRequest')) ?? obj;
    const built = buildRequest(inner, { model, key: undefined, via: 'generate', batch: undefined }, this.#deps.files);
    if (!built.ok) return errorReply(built.httpStatus, built.message);
    const tokens = promptTokens(built.request, this.#deps.render.imageTokens);
    return json({
      totalTokens: tokens.text + tokens.image,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: tokens.text }, ...(tokens.image > 0 ? [{ modality: 'IMAGE', tokenCount: tokens.image }] : [])],
    });
  }
}
