// Typed errors of the detector: callers branch on the class or the stable `code`, never the message.

export abstract class DetectError extends Error {
  abstract readonly code: string;
}

/** A DetectorConfig field is out of range. */
export class InvalidDetectorConfigError extends DetectError {
  override readonly name = "InvalidDetectorConfigError";
  readonly code = "LW_DETECT_CONFIG";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`detector config: ${field} ${message}`);
    this.field = field;
  }
}

/** A sample has a non-finite time or a negative/non-finite value. */
export class InvalidSampleError extends DetectError {
  override readonly name = "InvalidSampleError";
  readonly code = "LW_DETECT_SAMPLE";
}

/** Persisted state could not be restored (wrong shape or version). */
export class InvalidSeriesStateError extends DetectError {
  override readonly name = "InvalidSeriesStateError";
  readonly code = "LW_DETECT_STATE";
}

/** A row of a series CSV could not be read; `line` is 1-based and counts the header. */
export class SeriesCsvError extends DetectError {
  override readonly name = "SeriesCsvError";
  readonly code = "LW_DETECT_CSV";
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}
