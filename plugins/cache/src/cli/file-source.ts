// Reads files offline, never changing them: a dump file (`dump --out`, the Redis
// payload and snapshot.json share one format) or a data folder (snapshot + log replay;
// a torn tail is reported but left in place for the service to repair).
import { readFile, stat } from 'node:fs/promises'
import { recover } from '../data-dir.ts'
import { decodeImage, type StoreImage } from '../image.ts'
import { Store, type CollectionStats, type ListOptions } from '../store.ts'
import { documentView, listView, type DocumentView, type ListView } from '../views/json.ts'
import type { StatsLike } from '../views/table.ts'
import type { CacheSource } from './source.ts'

export class FileSource implements CacheSource {
  #loaded: Promise<{ store: Store; image: StoreImage; source: string }> | undefined

  constructor(readonly path: string) {}

  async collections(): Promise<CollectionStats[]> {
    return (await this.#load()).store.collections()
  }

  async list(collection: string, options: ListOptions): Promise<ListView> {
    return listView(collection, (await this.#load()).store.list(collection, options))
  }

  async get(collection: string, id: string): Promise<DocumentView | undefined> {
    const doc = (await this.#load()).store.get(collection, id)
    return doc && documentView(doc)
  }

  async stats(): Promise<StatsLike> {
    const { store, source } = await this.#load()
    const collections = store.collections()
    return { seq: store.seq, documents: collections.reduce((n, c) => n + c.documents, 0), collections, source }
  }

  async image(): Promise<StoreImage> {
    return (await this.#load()).image
  }

  #load() {
    this.#loaded ??= (async () => {
      const info = await stat(this.path)
      let image: StoreImage
      let source: string
      if (info.isDirectory()) {
        const { image: recovered, report } = await recover(this.path, { repair: false })
        image = recovered
        const torn = report.torn.length ? `, torn tail of ${report.torn.map((t) => `${t.bytes} bytes in ${t.file}`).join(', ')} ignored` : ''
        source = `data folder ${this.path} (snapshot seq ${report.snapshotSeq}, ${report.replayed} mutations replayed from ${report.segments} segments${torn})`
      } else {
        image = decodeImage(await readFile(this.path, 'utf8'), this.path)
        source = `dump file ${this.path}`
      }
      const store = new Store()
      store.load(image)
      return { store, image, source }
    })()
    return this.#loaded
  }
}
