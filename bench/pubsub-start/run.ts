// How long a file-storage partition takes to open: with the sealed segments' index files (a
// start reads only the open segment) beside a start that reads every segment (their index
// files removed, as before a segment is sealed, or after they are lost). Results go to
// bench/results/pubsub-start.md.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { FilePartition } from '../../plugins/pubsub/src/storage/file-partition.ts'
import { machine } from '../lib/load.ts'
import { median } from '../lib/stats.ts'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const VALUE_BYTES = 100
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SEGMENT_SIZES = [64 * 1024 * 1024, 16 * 1024 * 1024]

function fill(dir: string, segmentBytes: number): Promise<void> {
  const partition = new FilePartition(dir, { segmentBytes, cacheBytes: 8 << 20 }, async () => {})
  const value = Buffer.alloc(VALUE_BYTES, 'x')
  for (let offset = 0; offset < RECORDS;) {
    const records = []
    for (let i = 0; i < 1000 && offset < RECORDS; i++, offset++) records.push({ offset, timestamp: Date.now(), value, headers: {} })
    partition.append(records)
    partition.write()
  }
  return partition.close()
}

async function timeOpen(dir: string, segmentBytes: number, dropIndexes: boolean) {
  if (dropIndexes) for (const name of readdirSync(dir).filter((n) => n.endsWith('.index'))) rmSync(join(dir, name))
  const started = performance.now()
  const partition = new FilePartition(dir, { segmentBytes, cacheBytes: 8 << 20 }, async () => {})
  const ms = performance.now() - started
  if (partition.endOffset !== RECORDS) throw new Error(`reopened with ${partition.endOffset} records, expected ${RECORDS}`)
  const opened = { ...partition.opened, bytes: partition.bytes }
  await partition.close()
  return { ms, ...opened }
}

const rows: string[] = []
for (const segmentBytes of SEGMENT_SIZES) {
  const dir = mkdtempSync(join(tmpdir(), 'armature-bench-start-'))
  await fill(dir, segmentBytes)
  const indexed: number[] = []
  const scanned: number[] = []
  let facts = { indexed: 0, scanned: 0, bytes: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    // Scanning writes the index files again, so each round times a full read, then an indexed start.
    const full = await timeOpen(dir, segmentBytes, true)
    const fast = await timeOpen(dir, segmentBytes, false)
    scanned.push(full.ms)
    indexed.push(fast.ms)
    facts = fast
    console.log(`segments of ${segmentBytes >> 20} MiB, round ${round + 1}: every segment read ${full.ms.toFixed(0)} ms, sealed ones from their index ${fast.ms.toFixed(0)} ms`)
  }
  rmSync(dir, { recursive: true, force: true })
  const [fast, full] = [median(indexed), median(scanned)]
  rows.push(
    `| ${segmentBytes >> 20} MiB | ${facts.indexed + facts.scanned + 1} | ${(facts.bytes / 1e6).toFixed(0)} MB | ${full.toFixed(0)} | ${fast.toFixed(0)} | ${(full / fast).toFixed(1)}x |`,
  )
}

const report = `## Pubsub file storage: opening a partition (bench/pubsub-start)

${new Date().toISOString().slice(0, 10)}, ${machine()}. Load average at the end: ${loadavg()
  .map((n) => n.toFixed(1))
  .join(', ')}. Median of ${ROUNDS} rounds; the files are warm in the page cache (a restart of the process, not of the machine).

${RECORDS.toLocaleString('en')} records of ${VALUE_BYTES}-byte values in one partition. "Every segment read" is a start without index files: each frame's CRC checked and the sparse index rebuilt, as for the open segment always. "From their index" is a start with the \`<base>.index\` file each sealed segment got when it was rolled: only the open segment is read.

| segment size | segments | retained | every segment read, ms | sealed ones from their index, ms | faster |
|---|---:|---:|---:|---:|---:|
${rows.join('\n')}
`
writeFileSync(new URL('../results/pubsub-start.md', import.meta.url), report)
console.log(report)
