// The logging surface the domain needs. A pino Logger satisfies it; so does a stub in tests.
export interface CacheLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export const silentLogger: CacheLogger = { info() {}, warn() {}, error() {} }
