/** A LeakWatch spec or annotation value that cannot be used. `field` is the JSON path. */
export class SpecError extends Error {
  override readonly name = "SpecError";
  readonly code = "LW_INVALID_SPEC";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}
