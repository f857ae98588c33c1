// The producer process: a warm-up, then the measured phase, each sending `batch` values per call
// with at most `inFlight` calls awaiting their acknowledgement, as fast as they come back or at
// a fixed rate. Talks to bench/pubsub/run.ts over IPC.
import { setTimeout as sleep } from 'node:timers/promises'
import { openProducer, type Scenario } from './drivers.ts'
import { MEASURED, nowNs, value, WARMUP } from './payload.ts'

const s = JSON.parse(process.env.BENCH_SCENARIO!) as Scenario
const client = await openProducer(s)
const send = (message: object) => process.send!(message)
const next = (type: string) =>
  new Promise<void>((resolve) =>
    process.on('message', function on(m: { type: string }) {
      if (m.type === type) {
        process.off('message', on)
        resolve()
      }
    }),
  )

async function phase(kind: number, seconds: number): Promise<{ sent: number; failed: number; startNs: number; endNs: number }> {
  let inFlight = 0
  let sent = 0
  let failed = 0
  let wake: (() => void) | undefined
  const launch = () => {
    inFlight++
    sent += s.batch
    client
      .send(Array.from({ length: s.batch }, () => value(kind)))
      .catch(() => (failed += s.batch))
      .finally(() => {
        inFlight--
        wake?.()
      })
  }
  const startNs = nowNs()
  const endAt = startNs + seconds * 1e9
  while (nowNs() < endAt) {
    if (s.rate === 0) {
      while (inFlight < s.inFlight) launch()
      await new Promise<void>((resolve) => (wake = resolve))
    } else {
      // What is due by now goes out (at most the window); behind schedule, it catches up.
      const due = Math.floor(((nowNs() - startNs) / 1e9) * s.rate)
      while (sent + s.batch <= due && inFlight < s.inFlight) launch()
      await sleep(1)
    }
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve))
  return { sent, failed, startNs, endNs: nowNs() }
}

const warm = await phase(WARMUP, s.warmupSec)
send({ type: 'warmed', sent: warm.sent - warm.failed })
await next('go')
const measured = await phase(MEASURED, s.durationSec)
send({ type: 'done', ...measured })
await client.close()
process.disconnect()
