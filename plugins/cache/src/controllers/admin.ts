// Routes about the store as a whole, used by the CLI: collections, stats, a full dump.
// They start with `_`, which no collection name can, so they never shadow one.
import type { Cache } from '../cache.ts'
import { collectionsView, statsView } from '../views/json.ts'
import { encodeImage } from '../image.ts'
import { jsonResponse, jsonTextResponse } from './respond.ts'

export class AdminController {
  readonly #cache: Pick<Cache, 'store' | 'stats'>

  constructor(cache: Pick<Cache, 'store' | 'stats'>) {
    this.#cache = cache
  }

  collections(): Response {
    return jsonResponse(collectionsView(this.#cache.store.collections()), 200, `W/"${this.#cache.store.seq}"`)
  }

  stats(): Response {
    return jsonResponse(statsView(this.#cache.stats()), 200, `W/"${this.#cache.store.seq}"`)
  }

  dump(): Response {
    const image = this.#cache.store.image()
    return jsonTextResponse(encodeImage(image), 200, `"${image.seq}"`)
  }
}
