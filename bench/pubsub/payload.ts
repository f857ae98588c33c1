// The 100-byte value every broker carries: when it was published (process.hrtime, the machine's
// monotonic clock, the same in every process), whether it belongs to the warm-up, and filler.
export const VALUE_BYTES = 100
export const WARMUP = 0
export const MEASURED = 1

const filler = Buffer.alloc(VALUE_BYTES, 'x')

export function value(phase: number): Buffer {
  const v = Buffer.allocUnsafe(VALUE_BYTES)
  filler.copy(v)
  v.writeBigUInt64BE(process.hrtime.bigint(), 0)
  v[8] = phase
  return v
}

export const nowNs = (): number => Number(process.hrtime.bigint())
export const publishedNs = (v: Buffer): number => Number(v.readBigUInt64BE(0))
export const phaseOf = (v: Buffer): number => v[8]!
