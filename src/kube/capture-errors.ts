// Typed failures of the capture store. Callers branch on the class or `code`, never on the text.

export class CaptureError extends Error {
  override readonly name: string = "CaptureError";
  readonly code: string = "LW_CAPTURE";
  readonly capture: string;
  constructor(capture: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.capture = capture;
  }
}

/** The heap profile alone is larger than captures.maxBytes: nothing is stored. */
export class CaptureTooLargeError extends CaptureError {
  override readonly name = "CaptureTooLargeError";
  override readonly code = "LW_CAPTURE_TOO_LARGE";
  readonly heapBytes: number;
  readonly maxBytes: number;
  constructor(capture: string, heapBytes: number, maxBytes: number) {
    super(
      capture,
      `capture ${capture}: the heap profile alone (${heapBytes} bytes) exceeds captures.maxBytes (${maxBytes})`,
    );
    this.heapBytes = heapBytes;
    this.maxBytes = maxBytes;
  }
}

export class CaptureNotFoundError extends CaptureError {
  override readonly name = "CaptureNotFoundError";
  override readonly code = "LW_CAPTURE_NOT_FOUND";
  constructor(capture: string) {
    super(capture, `capture ${capture} not found`);
  }
}

/** Parts without their manifest (a save that never finished), or a manifest missing a part. */
export class CaptureIncompleteError extends CaptureError {
  override readonly name = "CaptureIncompleteError";
  override readonly code = "LW_CAPTURE_INCOMPLETE";
}

/** Stored bytes that do not match the manifest's sizes or hashes, or an unreadable manifest. */
export class CaptureCorruptError extends CaptureError {
  override readonly name = "CaptureCorruptError";
  override readonly code = "LW_CAPTURE_CORRUPT";
}

/** A capture with this name already exists with different content. */
export class CaptureConflictError extends CaptureError {
  override readonly name = "CaptureConflictError";
  override readonly code = "LW_CAPTURE_CONFLICT";
}
