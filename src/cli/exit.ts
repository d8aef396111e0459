// Exit codes of the CLI (0 ok, 1 failed, 2 bad usage, 3 finished with quarantined records), and how a command
// that finished reports a code other than 0 to main() without throwing.

export const EXIT = { ok: 0, failed: 1, usage: 2, quarantined: 3 } as const;

let finishedWith: number = EXIT.ok;

/** Called by a command that completed but must not exit 0 (e.g. records were quarantined). */
export function finishWith(code: number): void {
  finishedWith = code;
}

/** The code the last command finished with; resets it for the next parse (tests run several in one process). */
export function takeExitCode(): number {
  const c = finishedWith;
  finishedWith = EXIT.ok;
  return c;
}
