/** An error the CLI reports as one line on stderr, exiting with `exitCode` (2 = refused input, 3 = target busy). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3 } as const;
