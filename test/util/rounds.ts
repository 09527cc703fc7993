// Runs `ocrmake build` against a fake Gemini server whose batches move only by hand (batchTiming 'manual'),
// and ends every running batch at once whenever the build has sent all it can: one batch turnaround is then
// one round of the fake's round clock, however fast or slow this machine is. This is how a real build sees a
// Batch API whose turnaround (minutes to hours) dwarfs its own work.
//
// A batch's `state` events (its progress at each poll) are not ends: one may come after the `idle` that
// follows its creation, and must not make the driver wait for an idle that will not come again.
// The build has sent all it can when, after the last batch ended, it said `idle` (every sendable page is in a
// job) with no interactive call of a deadline's tail nor local draft running (those take seconds, not a
// turnaround), every
// job it submitted to the Batch engine has created its batch, and every batch ended by hand has been
// reported back. Nothing here waits on the clock.
import type { FakeGemini } from '../fake-gemini/index.js';
import { geminiEnv } from './gemini-rig.js';
import { parseNdjson, startCli, type CliResult } from './rig.js';

export interface RoundsResult extends CliResult {
  /** Times every running batch was ended at once. */
  turnarounds: number;
}

export function buildInRounds(dir: string, fake: FakeGemini, args: string[] = [], o: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RoundsResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(dir, ['build', '--json', '--poll-seconds', '0.02', ...args], { ...geminiEnv(fake), ...o.env });
    let stdout = '', stderr = '', partial = '';
    let submitted = 0, created = 0, ended = 0, endedByHand = 0, turnarounds = 0;
    let idleSinceEnd = false;
    const advance = () => {
      if (!idleSinceEnd || submitted !== created || ended < endedByHand) return;
      const active = fake.batches().filter((b) => b.state === 'PENDING' || b.state === 'RUNNING').length;
      if (active === 0) return;
      fake.advanceBatches(); // PENDING → RUNNING
      fake.advanceBatches(); // RUNNING → SUCCEEDED (or the end a fault planned)
      endedByHand += active;
      turnarounds++;
      idleSinceEnd = false;
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const e of parseNdjson(lines.join('\n'))) {
        if (e.event === 'submitted' && e.engine === 'gemini-batch') submitted++;
        else if (e.event === 'batch' && e.phase === 'created') created++;
        else if (e.event === 'batch' && e.phase === 'ended') {
          ended++;
          idleSinceEnd = false;
        } else if (e.event === 'idle') idleSinceEnd = e.interactive === 0 && e.local === 0;
      }
      advance();
    });
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ocrmake build ${args.join(' ')} timed out after ${turnarounds} turnarounds\nstdout: ${stdout.slice(-4000)}\nstderr: ${stderr}`));
    }, o.timeoutMs ?? 900_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, events: parseNdjson(stdout), turnarounds });
    });
  });
}
