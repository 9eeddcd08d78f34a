/**
 * Bad input: a scenario file that cannot be loaded or checked. The CLI prints `format()` as the one
 * line on stderr and exits 2 (scenario.md "Errors and kernel BUGs"); it never carries a stack trace.
 * Lines and columns are 1-based; columns count UTF-16 code units, as editors' "column" usually does.
 */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }

  /** `FILE:LINE:COLUMN: message` — the one line printed on stderr */
  format(): string {
    return `${this.file}:${this.line}:${this.column}: ${this.message}`;
  }
}
