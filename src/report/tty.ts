// The live view on a terminal: one progress bar of pages done, log lines above it for what matters.
import cliProgress from 'cli-progress';
import type { BuildEvent } from '../events.js';
import { describe, type Reporter, type ReporterOptions } from './reporter.js';

export function ttyReporter(o: ReporterOptions): Reporter {
  const bars = new cliProgress.MultiBar(
    { format: ' {bar} {value}/{total} pages | {status}', hideCursor: true, clearOnComplete: true, stream: o.err as NodeJS.WriteStream, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | null = null;
  let done = 0;
  const log = (line: string) => (bar ? bars.log(`${line}\n`) : o.err.write(`${line}\n`));
  return {
    emit(e: BuildEvent) {
      if (e.event === 'plan') {
        const d = describe(e);
        if (d) o.out.write(`${d.line}\n`);
        const total = e.toRestore + e.toSend;
        if (total > 0) bar = bars.create(total, 0, { status: 'starting' });
        return;
      }
      if (e.event === 'built' || e.event === 'restored' || (e.event === 'failed' && e.dead)) {
        done++;
        bar?.update(Math.min(done, bar.getTotal()), { status: `${e.event} ${e.key}` });
      }
      if (e.event === 'summary') {
        bars.stop();
        bar = null;
      }
      const d = describe(e);
      if (!d || d.level === 'detail') return;
      if (e.event === 'summary') o.out.write(`${d.line}\n`);
      else log(d.line);
    },
    close() {
      bars.stop();
    },
  };
}
