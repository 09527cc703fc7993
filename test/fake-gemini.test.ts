// The fake Gemini server, driven by the real @google/genai SDK over loopback HTTP: every route the engines
// use, the batch lifecycle on its logical clock, the default replier, and a sample of scripted faults.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ApiError, GoogleGenAI, type BatchJob, type InlinedRequest } from '@google/genai';
import { CONTEXT_END, CONTEXT_START, loadGroundTruth, startFakeGemini, type FakeGemini, type FakeGeminiOptions } from './fake-gemini/index.js';

const PNG_A = Buffer.from('\x89PNG fake page A of the Union College catalogue');
const PNG_B = Buffer.from('\x89PNG fake page B with no ground truth');
const TRUTH_A = 'UNION COLLEGE. 12\n\nDEPARTMENT OF ANCIENT LANGUAGES.\n\nGreek. Freshman Class. Homer; Xenophon.';
const SCHEMA = { type: 'object', properties: { raw_ocr: { type: 'object' } }, required: ['raw_ocr'] };

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fake-gemini-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function client(fake: FakeGemini, apiKey = 'test-key', timeout = 60_000): GoogleGenAI {
  return new GoogleGenAI({ apiKey, apiVersion: 'v1beta', httpOptions: { baseUrl: fake.url, timeout } });
}

async function withFake(options: FakeGeminiOptions, body: (fake: FakeGemini, ai: GoogleGenAI) => Promise<void>): Promise<void> {
  const fake = await startFakeGemini(options);
  try {
    await body(fake, client(fake));
    assert.deepEqual(fake.errors, []);
  } finally {
    await fake.close();
  }
}

function prompt(context?: string): string {
  const lines = ['Transcribe this page.', 'Answer with JSON only.'];
  if (context !== undefined) lines.push('', CONTEXT_START, context, CONTEXT_END);
  return lines.join('\n');
}

function inlinePart(bytes: Buffer): { inlineData: { mimeType: string; data: string } } {
  return { inlineData: { mimeType: 'image/png', data: bytes.toString('base64') } };
}

async function uploadJsonl(ai: GoogleGenAI, name: string, lines: unknown[], displayName = name): Promise<string> {
  const path = join(dir, `${name}.jsonl`);
  await writeFile(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const file = await ai.files.upload({ file: path, config: { mimeType: 'jsonl', displayName } });
  assert.ok(file?.name, 'upload returned a named file');
  return file.name;
}

function line(key: string, context?: string): unknown {
  return { key, request: { contents: [{ role: 'user', parts: [{ text: prompt(context) }, inlinePart(PNG_A)] }] } };
}

async function pollUntilDone(ai: GoogleGenAI, name: string): Promise<{ job: BatchJob; seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    const job = await ai.batches.get({ name });
    seen.push(String(job.state));
    if (['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED'].includes(String(job.state))) return { job, seen };
  }
  throw new Error(`batch ${name} never ended: ${seen.join(' ')}`);
}

async function downloadLines(ai: GoogleGenAI, fileName: string): Promise<{ raw: string; lines: Array<Record<string, any>> }> {
  const downloadPath = join(dir, `${fileName.replace(/\W/g, '_')}.jsonl`);
  await ai.files.download({ file: fileName, downloadPath });
  const raw = await readFile(downloadPath, 'utf8');
  return { raw, lines: raw.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>) };
}

async function rawGet(fake: FakeGemini, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${fake.url}${path}`, { headers: { 'x-goog-api-key': 'test-key' } });
  return { status: res.status, body: await res.json() };
}

function replyOf(response: Record<string, any>): Record<string, any> {
  return JSON.parse(response['candidates'][0].content.parts[0].text as string) as Record<string, any>;
}

describe('fake Gemini: batch in file mode with the real SDK', () => {
  test('upload, create, poll, download: results in order, ground truth, contexts, counters', async () => {
    const dataset = join(dir, 'dataset');
    await mkdir(join(dataset, 'raw_image_dataset/ny/union/1850'), { recursive: true });
    await mkdir(join(dataset, 'ground_truth/ny/union/1850'), { recursive: true });
    await writeFile(join(dataset, 'raw_image_dataset/ny/union/1850/p001.png'), PNG_A);
    await writeFile(join(dataset, 'raw_image_dataset/ny/union/1850/p002.png'), PNG_B);
    await writeFile(join(dataset, 'ground_truth/ny/union/1850/p001.txt'), TRUTH_A);
    const groundTruth = await loadGroundTruth(dataset);
    assert.deepEqual([...groundTruth], [[sha(PNG_A), TRUTH_A]]);
    assert.equal((await loadGroundTruth(join(dir, 'no-such-dataset'))).size, 0);

    await withFake({ groundTruth }, async (fake, ai) => {
      const image = await ai.files.upload({ file: new Blob([PNG_B], { type: 'image/png' }), config: { displayName: 'p002' } });
      assert.match(String(image?.name), /^files\/[a-z0-9]{12}$/);
      assert.equal(image?.sizeBytes, String(PNG_B.length));
      assert.equal(image?.source, 'UPLOADED');
      const context = 'Previous page number: 11\nLast courses: Latin.';
      const input = await uploadJsonl(ai, 'run-1', [
        line('book/p001'),
        { key: 'book/p002', request: { contents: [{ role: 'user', parts: [{ text: prompt(context) }, { fileData: { fileUri: image?.uri, mimeType: 'image/png' } }] }], generationConfig: { responseMimeType: 'application/json', responseJsonSchema: SCHEMA } } },
        { key: 'book/p003', request: { contents: [{ role: 'user', parts: [{ text: prompt('other') }, { inline_data: { mime_type: 'image/png', data: PNG_A.toString('base64') } }] }], generation_config: { temperature: 0 } } },
      ]);

      const created = await ai.batches.create({ model: 'gemini-2.5-flash', src: input, config: { displayName: 'ocrmake-run-1' } });
      assert.match(String(created.name), /^batches\/[a-z0-9]{36}$/);
      assert.equal(created.state, 'JOB_STATE_PENDING');
      assert.equal(created.displayName, 'ocrmake-run-1');
      assert.equal(created.model, 'models/gemini-2.5-flash');

      const { job, seen } = await pollUntilDone(ai, String(created.name));
      assert.deepEqual(seen, ['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED']);
      const id = String(created.name).slice('batches/'.length);
      assert.equal(job.dest?.fileName, `files/batch-${id}`);

      const wire = await rawGet(fake, `/v1beta/${created.name}`);
      assert.equal(wire.body.done, true);
      assert.deepEqual(wire.body.metadata.output, { responsesFile: `files/batch-${id}` });
      assert.equal(wire.body.response.responsesFile, `files/batch-${id}`);
      assert.deepEqual(wire.body.metadata.batchStats, { requestCount: '3', successfulRequestCount: '3' });

      const { raw, lines } = await downloadLines(ai, String(job.dest?.fileName));
      assert.ok(raw.endsWith('}\n'));
      assert.deepEqual(lines.map((l) => l['key']), ['book/p001', 'book/p002', 'book/p003']);
      assert.deepEqual(Object.keys(lines[0] ?? {}), ['response', 'key']);

      const first = replyOf(lines[0]?.['response']);
      assert.deepEqual(first['raw_ocr'].text_blocks.map((b: { text: string }) => b.text), TRUTH_A.split('\n\n'));
      assert.equal(first['raw_ocr'].layout_description.endsWith('previous-context: none'), true);
      assert.equal(first['school_name'], 'UNION COLLEGE');
      assert.equal(first['page_info'].page_number, '12');
      assert.equal(first['courses'][0].course_name, 'Greek');
      assert.equal(first['courses'][0].department, 'ANCIENT LANGUAGES');
      const second = replyOf(lines[1]?.['response']);
      assert.equal(second['raw_ocr'].layout_description.endsWith(`previous-context: sha256:${sha(context).slice(0, 16)}`), true);
      assert.match(second['raw_ocr'].text_blocks[1].text, new RegExp(sha(PNG_B).slice(0, 16)));
      const third = replyOf(lines[2]?.['response']);
      assert.equal(third['raw_ocr'].layout_description.endsWith(`previous-context: sha256:${sha('other').slice(0, 16)}`), true);

      for (const l of lines) {
        const u = l['response'].usageMetadata;
        assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount);
        assert.equal(l['response'].candidates[0].finishReason, 'STOP');
        assert.equal('continuationToken' in l['response'].candidates[0], false);
      }

      assert.deepEqual([...fake.contextByKey()], [['book/p001', null], ['book/p002', context], ['book/p003', 'other']]);
      assert.deepEqual(fake.records().map((r) => r.imageSha256), [sha(PNG_A), sha(PNG_B), sha(PNG_A)]);
      const c = fake.counters;
      // batch_get: three SDK polls plus the raw GET above.
      assert.deepEqual([c.upload_start, c.upload_chunk, c.create, c.batch_get, c.download, c.upload_resend], [2, 2, 1, 4, 1, 0]);
      const start = fake.requestsFor('upload_start')[1];
      assert.equal(start?.headers['x-goog-upload-header-content-type'], 'jsonl');
      assert.deepEqual(fake.requestsFor('create')[0]?.json, { batch: { inputConfig: { fileName: input }, displayName: 'ocrmake-run-1' } });
      assert.equal(fake.requestsFor('upload_chunk')[0]?.headers['x-goog-upload-offset'], '0');
      const [info] = fake.batches();
      assert.equal(info?.displayName, 'ocrmake-run-1');
      assert.deepEqual(info?.keys, ['book/p001', 'book/p002', 'book/p003']);
      assert.equal(info?.state, 'SUCCEEDED');
      assert.equal(info?.round, 1);
      assert.equal(fake.rounds(), 1);
    });
  });

  test('pending operation on the wire: no done key, string stats; get of unknown is 404', async () => {
    await withFake({ batchTiming: 'manual' }, async (fake, ai) => {
      const input = await uploadJsonl(ai, 'wire', [line('a'), line('b')]);
      const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: input, config: { displayName: 'wire' } });
      const pending = await rawGet(fake, `/v1beta/${job.name}`);
      assert.equal('done' in pending.body, false);
      assert.equal(pending.body.metadata.state, 'BATCH_STATE_PENDING');
      assert.deepEqual(pending.body.metadata.batchStats, { requestCount: '2', pendingRequestCount: '2' });
      assert.match(pending.body.metadata.createTime, /^2026-11-20T10:00:00\.000000Z$/);
      const missing = await rawGet(fake, '/v1/batches/doesnotexist');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.status, 'NOT_FOUND');
      await assert.rejects(ai.batches.get({ name: 'batches/doesnotexist' }), (e: unknown) => e instanceof ApiError && e.status === 404);
    });
  });
});

describe('fake Gemini: across processes and API versions', () => {
  test('a child process reaches the fake through GOOGLE_GEMINI_BASE_URL and gets results by polling', async () => {
    await withFake({}, async (fake, ai) => {
      const jsonl = join(dir, 'child.jsonl');
      await writeFile(jsonl, `${JSON.stringify(line('child/p1'))}\n${JSON.stringify(line('child/p2', 'ctx'))}\n`);
      const script = `
        import { GoogleGenAI } from '@google/genai';
        import { readFileSync } from 'node:fs';
        const ai = new GoogleGenAI({ apiVersion: 'v1beta', httpOptions: { timeout: 60000 } });
        const file = await ai.files.upload({ file: process.env.JSONL, config: { mimeType: 'jsonl' } });
        let job = await ai.batches.create({ model: 'gemini-2.5-flash', src: file.name, config: { displayName: 'child' } });
        const states = [];
        while (!['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_EXPIRED'].includes(job.state)) {
          await new Promise((r) => setTimeout(r, 10));
          job = await ai.batches.get({ name: job.name });
          states.push(job.state);
        }
        await ai.files.download({ file: job.dest.fileName, downloadPath: process.env.OUT });
        const keys = readFileSync(process.env.OUT, 'utf8').trim().split('\\n').map((l) => JSON.parse(l).key);
        console.log(JSON.stringify({ states, keys }));
      `;
      const { GOOGLE_API_KEY: _a, GOOGLE_GENAI_USE_VERTEXAI: _b, ...env } = process.env;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...env, GOOGLE_GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: 'test-key', JSONL: jsonl, OUT: join(dir, 'child-out.jsonl') },
        timeout: 60_000,
      });
      assert.deepEqual(JSON.parse(stdout), { states: ['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED'], keys: ['child/p1', 'child/p2'] });
      assert.deepEqual([...fake.contextByKey()], [['child/p1', null], ['child/p2', 'ctx']]);
      assert.deepEqual([fake.counters.upload_start, fake.counters.create, fake.counters.batch_get, fake.counters.download], [1, 1, 3, 1]);
      assert.equal(fake.requests.every((r) => r.headers['x-goog-api-key'] === 'test-key'), true);

      // The REST docs' download path and the other API versions are served too.
      const output = String(fake.batches()[0]?.outputFile);
      const viaDocsPath = await fetch(`${fake.url}/download/v1beta/${output}:download?alt=media`);
      assert.equal((await viaDocsPath.text()).split('\n').length, 3);
      for (const version of ['v1', 'v1alpha']) {
        const listed = await rawGet(fake, `/${version}/files?pageSize=1`);
        assert.equal(listed.body.files.length, 1);
        assert.equal(typeof listed.body.nextPageToken, 'string');
      }
      const uploaded = await ai.files.get({ name: String(fake.files().find((f) => f.source === 'UPLOADED')?.name) });
      await assert.rejects(ai.files.download({ file: String(uploaded.name), downloadPath: join(dir, 'nope') }), (e: unknown) => e instanceof ApiError && e.status === 400);
      const unknown = await fetch(`${fake.url}/v1beta/nothing/here`);
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
    });
  });
});

describe('fake Gemini: batch list, cancel, delete, inline mode, clock and rounds', () => {
  test('list pages through every batch and terminates; files.list too', async () => {
    await withFake({}, async (fake, ai) => {
      for (let i = 0; i < 5; i++) {
        await ai.batches.create({ model: 'gemini-2.5-flash', src: [{ contents: [{ role: 'user', parts: [{ text: `q${i}` }] }], metadata: { key: `k${i}` } }], config: { displayName: `job-${i}` } });
      }
      const names: string[] = [];
      for await (const job of await ai.batches.list({ config: { pageSize: 2 } })) names.push(String(job.displayName));
      assert.deepEqual(names.sort(), ['job-0', 'job-1', 'job-2', 'job-3', 'job-4']);
      assert.equal(fake.counters.batch_list, 3);
      const lastPage = await rawGet(fake, `/v1beta/batches?pageSize=2&pageToken=${String(fake.requestsFor('batch_list')[2]?.query['pageToken'])}`);
      assert.equal(lastPage.body.operations.length, 1);
      assert.equal('nextPageToken' in lastPage.body, false);

      for (const n of ['a', 'b', 'c']) await uploadJsonl(ai, `list-${n}`, [line(n)]);
      const files: string[] = [];
      for await (const f of await ai.files.list({ config: { pageSize: 2 } })) files.push(String(f.displayName));
      assert.deepEqual(files.sort(), ['list-a', 'list-b', 'list-c']);
      assert.equal(fake.counters.file_list, 2);
    });
  });

  test('cancel ends an active batch with error code 1; delete removes it', async () => {
    await withFake({}, async (fake, ai) => {
      const input = await uploadJsonl(ai, 'cancel', [line('x')]);
      const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: input, config: { displayName: 'to-cancel' } });
      await ai.batches.cancel({ name: String(job.name) });
      assert.equal((await ai.batches.get({ name: String(job.name) })).state, 'JOB_STATE_CANCELLED');
      const wire = await rawGet(fake, `/v1beta/${job.name}`);
      assert.equal(wire.body.done, true);
      assert.equal(wire.body.error.code, 1);
      assert.equal(wire.body.metadata.output, undefined);

      await ai.batches.delete({ name: String(job.name) });
      await assert.rejects(ai.batches.get({ name: String(job.name) }), (e: unknown) => e instanceof ApiError && e.status === 404);
      let listed = 0;
      for await (const _ of await ai.batches.list({ config: { pageSize: 10 } })) listed += 1;
      assert.equal(listed, 0);
      assert.equal(fake.batches()[0]?.deleted, true);
      assert.deepEqual([fake.counters.batch_cancel, fake.counters.batch_delete], [1, 1]);
      assert.equal(fake.records()[0]?.outcome, undefined, 'a cancelled batch never produced replies');

      await ai.files.delete({ name: input });
      await assert.rejects(ai.files.get({ name: input }), (e: unknown) => e instanceof ApiError && e.status === 403);
    });
  });

  test('inline batch: responses with metadata, manual advance, sequential rounds, expiry on the clock', async () => {
    await withFake({ batchTiming: 'manual' }, async (fake, ai) => {
      const inline = (key: string): InlinedRequest => ({
        contents: [{ role: 'user', parts: [{ text: prompt() }, inlinePart(PNG_A)] }],
        metadata: { key },
      });
      const a = await ai.batches.create({ model: 'gemini-2.5-flash', src: [inline('a1'), inline('a2')], config: { displayName: 'round-1a' } });
      const b = await ai.batches.create({ model: 'gemini-2.5-flash', src: [inline('b1')], config: { displayName: 'round-1b' } });
      assert.equal((await ai.batches.get({ name: String(a.name) })).state, 'JOB_STATE_PENDING', 'manual mode: polls do not move it');
      assert.equal(fake.advanceBatches(), 2);
      assert.equal((await ai.batches.get({ name: String(a.name) })).state, 'JOB_STATE_RUNNING');
      assert.equal(fake.advanceBatches(), 2);
      const done = await ai.batches.get({ name: String(a.name) });
      assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
      const responses = done.dest?.inlinedResponses ?? [];
      assert.deepEqual(responses.map((r) => r.metadata?.['key']), ['a1', 'a2']);
      const text = responses[0]?.response?.candidates?.[0]?.content?.parts?.[0]?.text;
      assert.deepEqual(JSON.parse(String(text)).raw_ocr.text_blocks[1].text, `Fake OCR text for image sha256:${sha(PNG_A).slice(0, 16)}.`);
      assert.equal(text, responses[1]?.response?.candidates?.[0]?.content?.parts?.[0]?.text, 'same image and context, same bytes');

      const c = await ai.batches.create({ model: 'gemini-2.5-flash', src: [inline('c1')], config: { displayName: 'round-2' } });
      assert.deepEqual(fake.batches().map((x) => [x.displayName, x.round]), [['round-1a', 1], ['round-1b', 1], ['round-2', 2]]);
      assert.equal(fake.rounds(), 2);
      fake.clock.advance(49 * 3600_000);
      assert.equal((await ai.batches.get({ name: String(c.name) })).state, 'JOB_STATE_EXPIRED');
      assert.equal(fake.batch(String(b.name))?.state, 'SUCCEEDED');
      assert.equal(fake.batch(String(c.name))?.endedAt, Date.parse('2026-11-20T10:00:00Z') + 49 * 3600_000);
    });
  });

  test('time-based timing: the batch moves on only when the logical clock does', async () => {
    await withFake({ batchTiming: { pendingPolls: Infinity, runningPolls: Infinity, pendingMs: 60_000, runningMs: 60_000 } }, async (fake, ai) => {
      const input = await uploadJsonl(ai, 'timed', [line('t')]);
      const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: input });
      fake.clock.advance(59_999);
      assert.equal((await ai.batches.get({ name: String(job.name) })).state, 'JOB_STATE_PENDING');
      fake.clock.advance(1);
      assert.equal((await ai.batches.get({ name: String(job.name) })).state, 'JOB_STATE_RUNNING');
      fake.clock.advance(60_000);
      const done = await ai.batches.get({ name: String(job.name) });
      assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
      assert.equal(done.endTime, '2026-11-20T10:02:00.000000Z');
    });
  });
});

describe('fake Gemini: interactive routes', () => {
  test('generateContent with an inline image and responseJsonSchema; stream; countTokens; determinism', async () => {
    await withFake({}, async (fake, ai) => {
      const ask = (context?: string) =>
        ai.models.generateContent({
          model: 'gemini-2.5-flash',
          contents: [{ role: 'user', parts: [{ text: prompt(context) }, inlinePart(PNG_B)] }],
          config: { temperature: 0, responseMimeType: 'application/json', responseJsonSchema: SCHEMA },
        });
      const one = await ask();
      const two = await ask();
      assert.equal(one.text, two.text);
      assert.equal(one.responseId, two.responseId);
      const parsed = JSON.parse(String(one.text));
      assert.match(parsed.raw_ocr.layout_description, /previous-context: none$/);
      assert.equal(parsed.page_info.content_type, 'other');
      assert.equal(one.usageMetadata?.totalTokenCount, (one.usageMetadata?.promptTokenCount ?? 0) + (one.usageMetadata?.candidatesTokenCount ?? 0) + 32);
      const withContext = await ask('ctx');
      assert.match(JSON.parse(String(withContext.text)).raw_ocr.layout_description, new RegExp(`previous-context: sha256:${sha('ctx').slice(0, 16)}$`));
      const body = fake.requestsFor('generate')[0]?.json as { generationConfig: Record<string, unknown> };
      assert.deepEqual(body.generationConfig['responseJsonSchema'], SCHEMA);

      let streamed = '';
      let chunks = 0;
      for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [{ text: prompt() }, inlinePart(PNG_B)] }] })) {
        streamed += chunk.text ?? '';
        chunks += 1;
      }
      assert.equal(streamed, one.text);
      assert.equal(chunks, 3);
      assert.equal(fake.requestsFor('stream_generate')[0]?.query['alt'], 'sse');

      const count = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [{ text: 'abcdefgh' }, inlinePart(PNG_B)] }] });
      assert.equal(count.totalTokens, 2 + 258);
      assert.deepEqual([fake.counters.generate, fake.counters.stream_generate, fake.counters.count_tokens], [3, 1, 1]);
    });
  });

  test('record faults apply to generateContent by predicate: MAX_TOKENS, SAFETY, error, fenced', async () => {
    await withFake({}, async (fake, ai) => {
      const bySha = (bytes: Buffer) => (r: { imageSha256: string | undefined }) => r.imageSha256 === sha(bytes);
      fake.faults.record(bySha(PNG_A), 'max-tokens');
      fake.faults.record(bySha(PNG_A), 'safety');
      fake.faults.record(bySha(PNG_A), { kind: 'error', code: 8, message: 'Quota per record' });
      fake.faults.record(bySha(PNG_A), 'fenced');
      fake.faults.record(bySha(PNG_A), 'thoughts');
      const ask = () => ai.models.generateContent({ model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [{ text: 'p' }, inlinePart(PNG_A)] }] });
      const truncated = await ask();
      assert.equal(truncated.candidates?.[0]?.finishReason, 'MAX_TOKENS');
      assert.throws(() => JSON.parse(String(truncated.text)), SyntaxError);
      const blocked = await ask();
      assert.equal(blocked.candidates?.[0]?.finishReason, 'SAFETY');
      assert.equal(blocked.text, undefined);
      await assert.rejects(ask(), (e: unknown) => e instanceof ApiError && e.status === 429 && JSON.parse(e.message).error.message === 'Quota per record');
      const fenced = await ask();
      assert.match(String(fenced.text), /^```json\n\{.*\}\n```$/s);
      const thinking = await ask();
      assert.equal(thinking.candidates?.[0]?.content?.parts?.[0]?.thought, true);
      const clean = await ask();
      assert.equal(clean.candidates?.[0]?.finishReason, 'STOP');
      assert.equal(thinking.text, clean.text, 'the SDK drops the thought part');
      assert.equal(fenced.text, '```json\n' + clean.text + '\n```');
      assert.deepEqual(fake.records().map((r) => r.outcome), ['response', 'response', 'error', 'response', 'response', 'response']);
      assert.deepEqual(fake.faults.remaining(), { route: 0, record: 0, batch: 0 });
    });
  });
});

describe('fake Gemini: scripted faults', () => {
  test('per-record faults in a batch: error line, missing, key-only, malformed, schema; EXPIRED batch', async () => {
    await withFake({}, async (fake, ai) => {
      fake.faults.record('r/err', 'error');
      fake.faults.record('r/missing', 'missing');
      fake.faults.record('r/key-only', 'key-only');
      fake.faults.record('r/malformed', 'malformed');
      fake.faults.record('r/schema', 'schema');
      fake.faults.batch('EXPIRED', 1, (b) => b.displayName === 'doomed');
      const keys = ['r/ok', 'r/err', 'r/missing', 'r/key-only', 'r/malformed', 'r/schema'];
      const input = await uploadJsonl(ai, 'faulty', keys.map((k) => line(k)));
      const doomed = await ai.batches.create({ model: 'gemini-2.5-flash', src: input, config: { displayName: 'doomed' } });
      assert.equal((await pollUntilDone(ai, String(doomed.name))).job.state, 'JOB_STATE_EXPIRED');
      assert.equal((await rawGet(fake, `/v1beta/${doomed.name}`)).body.error.code, 4);
      assert.equal(fake.records()[1]?.outcome, undefined, 'an expired batch consumed no record fault');

      const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: input, config: { displayName: 'retry' } });
      const { job: done } = await pollUntilDone(ai, String(job.name));
      assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
      assert.equal(fake.batch(String(job.name))?.round, 2);
      const { lines } = await downloadLines(ai, String(done.dest?.fileName));
      assert.deepEqual(lines.map((l) => l['key']), ['r/ok', 'r/err', 'r/key-only', 'r/malformed', 'r/schema']);
      assert.deepEqual(lines[1], { error: { code: 13, message: 'Internal error encountered.' }, key: 'r/err' });
      assert.deepEqual(lines[2], { key: 'r/key-only' });
      assert.throws(() => replyOf(lines[3]?.['response']), SyntaxError);
      const schemaBroken = replyOf(lines[4]?.['response']);
      assert.equal(schemaBroken['raw_ocr'].text_blocks, 'not-a-list');
      assert.equal('courses' in schemaBroken, false);
      const wire = await rawGet(fake, `/v1beta/${job.name}`);
      assert.deepEqual(wire.body.metadata.batchStats, { requestCount: '6', successfulRequestCount: '5', failedRequestCount: '1' });
    });
  });

  test('429 then success with SDK retryOptions on get; without retries the 429 carries RetryInfo', async () => {
    await withFake({ batchTiming: 'manual' }, async (fake, ai) => {
      const input = await uploadJsonl(ai, 'quota', [line('q')]);
      const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: input });
      fake.faults.route('batch_get', { kind: 'error', status: 429, retryDelay: '0.01s' });
      const got = await ai.batches.get({ name: String(job.name), config: { httpOptions: { retryOptions: { attempts: 3, initialDelay: 0.01, jitter: 0 } } } });
      assert.equal(got.state, 'JOB_STATE_PENDING');
      assert.equal(fake.counters.batch_get, 2);
      assert.deepEqual(fake.requestsFor('batch_get').map((r) => [r.status, r.fault]), [[429, 'error:429'], [200, undefined]]);

      fake.faults.route('batch_get', '429');
      await assert.rejects(ai.batches.get({ name: String(job.name) }), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 429);
        const error = JSON.parse(e.message).error;
        assert.equal(error.status, 'RESOURCE_EXHAUSTED');
        assert.deepEqual(error.details.map((d: { '@type': string }) => d['@type'].split('.').pop()), ['QuotaFailure', 'Help', 'RetryInfo']);
        assert.equal(error.details[2].retryDelay, '1s');
        return true;
      });
    });
  });

  test('socket destroy gives fetch failed; create fails twice (html 503, JSON 500) then succeeds once', async () => {
    await withFake({}, async (fake, ai) => {
      const input = await uploadJsonl(ai, 'flaky', [line('f')]);
      fake.faults.route('file_get', 'destroy');
      await assert.rejects(ai.files.get({ name: input }), (e: unknown) => e instanceof TypeError && e.message === 'fetch failed');
      assert.equal((await ai.files.get({ name: input })).name, input);

      fake.faults.route('create', '503-html');
      fake.faults.route('create', '500');
      const create = () => ai.batches.create({ model: 'gemini-2.5-flash', src: input, config: { displayName: 'flaky' } });
      await assert.rejects(create(), (e: unknown) => e instanceof ApiError && e.status === 503 && JSON.parse(e.message).error.message.includes('<html'));
      await assert.rejects(create(), (e: unknown) => e instanceof ApiError && e.status === 500 && JSON.parse(e.message).error.status === 'INTERNAL');
      await create();
      assert.equal(fake.counters.create, 3);
      assert.equal(fake.batches().length, 1, 'failed creates made no batch');

      fake.faults.route('create', { kind: 'error', status: 503, afterHandling: true });
      await assert.rejects(create(), (e: unknown) => e instanceof ApiError && e.status === 503);
      assert.deepEqual(fake.batches().map((b) => b.displayName), ['flaky', 'flaky'], 'accepted-then-503 leaves a job behind');
    });
  });

  test('create validates the input: missing file, line without key or contents, snake_case accepted', async () => {
    await withFake({}, async (fake, ai) => {
      const isInvalid = (pattern: RegExp) => (e: unknown) =>
        e instanceof ApiError && e.status === 400 && JSON.parse(e.message).error.status === 'INVALID_ARGUMENT' && pattern.test(JSON.parse(e.message).error.message);
      await assert.rejects(ai.batches.create({ model: 'gemini-2.5-flash', src: 'files/nosuchfile' }), isInvalid(/does not exist/));
      const noKey = await uploadJsonl(ai, 'no-key', [line('ok'), { request: { contents: [] } }]);
      await assert.rejects(ai.batches.create({ model: 'gemini-2.5-flash', src: noKey }), isInvalid(/Line 2 .* no "key"/));
      const noContents = await uploadJsonl(ai, 'no-contents', [{ key: 'k', request: { generationConfig: {} } }]);
      await assert.rejects(ai.batches.create({ model: 'gemini-2.5-flash', src: noContents }), isInvalid(/no "request.contents"/));
      const path = join(dir, 'broken.jsonl');
      await writeFile(path, '{"key":"a","request":{"contents":[]}}\n{not json\n');
      const broken = await ai.files.upload({ file: path, config: { mimeType: 'jsonl' } });
      await assert.rejects(ai.batches.create({ model: 'gemini-2.5-flash', src: String(broken?.name) }), isInvalid(/Invalid JSON on line 2/));
      const missingImage = await uploadJsonl(ai, 'gone', [{ key: 'g', request: { contents: [{ parts: [{ file_data: { file_uri: 'https://generativelanguage.googleapis.com/v1beta/files/gone123' } }] }] } }]);
      const job = await ai.batches.create({ model: 'gemini-2.5-flash', src: missingImage });
      const { job: done } = await pollUntilDone(ai, String(job.name));
      const { lines } = await downloadLines(ai, String(done.dest?.fileName));
      assert.equal(lines[0]?.['error'].code, 7);
      assert.equal(fake.counters.create, 5);
    });
  });

  test('upload faults: final chunk without file, chunk without status (SDK re-send), rejected MIME type', async () => {
    await withFake({ rejectMimeTypes: ['text/plain'] }, async (fake, ai) => {
      fake.faults.route('upload_chunk', 'upload-final-without-file');
      const lost = await ai.files.upload({ file: new Blob(['{"key":"a"}\n']), config: { mimeType: 'jsonl', displayName: 'lost' } });
      assert.equal(lost?.name, undefined);
      assert.equal(fake.files()[0]?.displayName, 'lost', 'the file exists server-side all the same');

      fake.faults.route('upload_chunk', 'upload-no-status');
      const started = Date.now();
      const kept = await ai.files.upload({ file: new Blob(['{"key":"b"}\n']), config: { mimeType: 'jsonl', displayName: 'resent' } });
      assert.ok(Date.now() - started >= 900, 'the SDK sleeps 1 s before re-sending');
      assert.equal(kept?.sizeBytes, '12');
      assert.equal(fake.counters.upload_resend, 1);
      assert.equal(fake.fileBytes(String(kept?.name))?.toString(), '{"key":"b"}\n');

      await assert.rejects(ai.files.upload({ file: new Blob(['x']), config: { mimeType: 'text/plain' } }), (e: unknown) => e instanceof ApiError && e.status === 400 && /Unsupported MIME type: text\/plain/.test(e.message));
      assert.deepEqual([fake.counters.upload_start, fake.counters.upload_chunk], [3, 3]);
    });
  });

  test('API key check, hang with a client timeout, slow reply, close() ends hung sockets at once', async () => {
    const fake = await startFakeGemini({ apiKey: 'right-key' });
    try {
      await assert.rejects(client(fake, 'wrong-key').files.list({ config: { pageSize: 1 } }), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        const error = JSON.parse(e.message).error;
        assert.equal(error.details[0].reason, 'API_KEY_INVALID');
        return e.status === 400;
      });
      const ai = client(fake, 'right-key', 300);
      fake.faults.route('file_list', 'hang');
      await assert.rejects(ai.files.list(), (e: unknown) => e instanceof Error && e.name === 'AbortError');
      fake.faults.route('file_list', { kind: 'delay', ms: 100 });
      const started = Date.now();
      const pager = await ai.files.list();
      assert.equal(pager.page.length, 0);
      assert.ok(Date.now() - started >= 90);

      fake.faults.route('batch_get', 'hang', 'always');
      const hung = client(fake, 'right-key', 60_000).batches.get({ name: 'batches/abc' }).catch((e: unknown) => e);
      while (fake.counters.batch_get === 0) await new Promise((r) => setTimeout(r, 5));
      const closing = Date.now();
      await fake.close();
      // At once: long before the client's own 60 s timeout would have ended it.
      assert.ok(Date.now() - closing < 20_000, `close() took ${Date.now() - closing} ms`);
      const error = await hung;
      assert.ok(error instanceof TypeError && error.message === 'fetch failed');
      assert.equal(fake.counters.auth_failures, 1);
    } finally {
      await fake.close();
    }
  });
});
