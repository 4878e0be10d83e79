// The logging surface src/kube needs: pino's `(obj, msg)` call shape, so a pino logger (or a child
// of one) can be passed as is, and tests can pass `silentLogger` or a recording fake. Declared as
// methods, so lint's unbound-method rule catches `const log = logger.warn` (pino needs its `this`).

export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
