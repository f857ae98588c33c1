// The `armature cache` command: parse, pick a source, render a table or JSON.
import { open, rename } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { encodeImage } from '../image.ts'
import { CacheError } from '../errors.ts'
import { collectionsTable, documentDetail, documentsTable, statsTable } from '../views/table.ts'
import { FileSource } from './file-source.ts'
import { HttpSource } from './http-source.ts'
import { SourceError, type CacheSource } from './source.ts'

/** The local service on PORT (as `armature plugins` finds it), else :8080. */
export function defaultUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${env.PORT || 8080}`
}

export const USAGE = `usage: armature cache <command> [options]

commands:
  ls [collection]        collections, or the documents of one collection
  get <collection> <id>  one document
  stats                  sequence number, counts, persistence state
  dump --out FILE        write the whole store as one JSON image

options:
  --url URL     a running service (default $ARMATURE_CACHE_URL, else http://127.0.0.1:$PORT,
                else :8080; the path defaults to /cache)
  --file PATH   offline: a dump file or a data folder, read without changes
  --json        JSON instead of tables
  --limit N --cursor C --prefix P   paging and filtering for ls <collection>
`

export interface Output {
  out(text: string): void
  err(text: string): void
}

const stdio: Output = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) }

export async function runCli(argv: string[], io: Output = stdio): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        file: { type: 'string' },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        prefix: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (err) {
    io.err(`armature cache: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  if (values.help || !command) {
    ;(values.help ? io.out : io.err)(USAGE)
    return values.help ? 0 : 2
  }
  if (values.url && values.file) {
    io.err('armature cache: give --url or --file, not both\n')
    return 2
  }
  const source: CacheSource = values.file ? new FileSource(values.file) : new HttpSource(values.url ?? process.env.ARMATURE_CACHE_URL ?? defaultUrl())
  const print = (data: unknown, table: () => string) => io.out(values.json ? `${JSON.stringify(data, null, 2)}\n` : table())

  try {
    switch (command) {
      case 'ls': {
        const [collection] = rest
        if (!collection) {
          const collections = await source.collections()
          print({ collections }, () => collectionsTable(collections))
          return 0
        }
        const limit = values.limit === undefined ? undefined : Number(values.limit)
        const page = await source.list(collection, {
          ...(limit !== undefined ? { limit } : {}),
          ...(values.cursor ? { cursor: values.cursor } : {}),
          ...(values.prefix ? { prefix: values.prefix } : {}),
        })
        print(page, () => documentsTable(collection, page.items, page.nextCursor))
        return 0
      }
      case 'get': {
        const [collection, id] = rest
        if (!collection || !id) return usage(io, 'get needs <collection> <id>')
        const doc = await source.get(collection, id)
        if (!doc) {
          io.err(`armature cache: ${collection}/${id} not found\n`)
          return 1
        }
        print(doc, () => documentDetail(doc))
        return 0
      }
      case 'stats': {
        const stats = await source.stats()
        print(stats, () => statsTable(stats))
        return 0
      }
      case 'dump': {
        if (!values.out) return usage(io, 'dump needs --out FILE')
        const image = await source.image()
        await writeAtomically(values.out, encodeImage(image))
        const summary = { file: values.out, seq: image.seq, documents: image.documents.length }
        print(summary, () => `wrote ${summary.documents} documents at seq ${summary.seq} to ${summary.file}\n`)
        return 0
      }
      default:
        return usage(io, `unknown command '${command}'`)
    }
  } catch (err) {
    if (err instanceof SourceError || err instanceof CacheError || (err as NodeJS.ErrnoException).code) {
      io.err(`armature cache: ${(err as Error).message}\n`)
      return 1
    }
    throw err
  }
}

function usage(io: Output, problem: string): number {
  io.err(`armature cache: ${problem}\n\n${USAGE}`)
  return 2
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`
  const handle = await open(temp, 'w')
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
}
