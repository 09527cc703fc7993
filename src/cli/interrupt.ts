// Ctrl-C (SIGINT) and SIGTERM for the commands that run long (build, try, watch): the first aborts the work
// so the command can save the cache and release the lock; a second one exits at once (130).

/** Aborts `controller` on the first SIGINT/SIGTERM, saying `message`; returns the function that stops listening. */
export function abortOnSignals(controller: AbortController, message: (signal: NodeJS.Signals) => string): () => void {
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${message(signal)}\n`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
