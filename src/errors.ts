// Expected failures are values; exceptions are for bugs (STYLE §6). The one exception class here is the
// exit signal that commands throw to stop with a given code after reporting.

export const ExitCode = { ok: 0, failed: 1, usage: 2, locked: 3, interrupted: 130 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem with the user's configuration or command line: always names where, and what to do. */
export interface Problem {
  reason:
    | 'ocrfile-missing'
    | 'ocrfile-syntax'
    | 'config-invalid'
    | 'pattern-invalid'
    | 'prompt-missing'
    | 'prompt-syntax'
    | 'selector-invalid'
    | 'option-invalid';
  message: string;
  /** File at fault, relative to the project root when inside it. */
  file?: string;
  /** Config path (`pages.image`, `execution.batchSize`) or `line:column`. */
  at?: string;
  /** What the user should do. */
  hint?: string;
}

export function formatProblem(p: Problem): string {
  const where = [p.file, p.at].filter(Boolean).join(' at ');
  const head = where ? `${where}: ${p.message}` : p.message;
  return p.hint ? `${head}\n  ${p.hint}` : head;
}

/** Thrown by commands to stop with an exit code; the top level prints `message` (if any) and exits. */
export class ExitSignal extends Error {
  constructor(
    readonly code: ExitCode,
    message = '',
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
    this.name = 'ExitSignal';
  }
}

export function usageError(problems: Problem[]): ExitSignal {
  return new ExitSignal(ExitCode.usage, problems.map(formatProblem).join('\n'), problems);
}

export function unreachable(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
