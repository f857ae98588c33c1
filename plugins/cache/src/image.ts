// A point-in-time copy of the whole store: what snapshots, Redis dumps and `dump --out`
// files contain. `seq` is the last mutation included, which is how restore compares them.
import type { StoredDocument } from './document.ts'
import { CorruptDataError } from './errors.ts'

export const IMAGE_FORMAT = 'armature-cache-image'
export const IMAGE_VERSION = 1

export interface StoreImage {
  readonly format: typeof IMAGE_FORMAT
  readonly version: typeof IMAGE_VERSION
  readonly seq: number
  readonly createdAt: number
  readonly documents: readonly StoredDocument[]
}

export function emptyImage(): StoreImage {
  return { format: IMAGE_FORMAT, version: IMAGE_VERSION, seq: 0, createdAt: 0, documents: [] }
}

export function encodeImage(image: StoreImage): string {
  return JSON.stringify(image)
}

/** Parses and checks an image; `source` names where it came from for the error message. */
export function decodeImage(text: string, source: string): StoreImage {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new CorruptDataError(`${source}: not valid JSON (${(err as Error).message})`)
  }
  const image = parsed as Partial<StoreImage> | null
  if (!image || image.format !== IMAGE_FORMAT) throw new CorruptDataError(`${source}: not an ${IMAGE_FORMAT} (format field missing or different)`)
  if (image.version !== IMAGE_VERSION) throw new CorruptDataError(`${source}: image version ${image.version} is not supported (expected ${IMAGE_VERSION})`)
  if (!Number.isSafeInteger(image.seq) || (image.seq as number) < 0) throw new CorruptDataError(`${source}: bad sequence number ${image.seq}`)
  if (!Array.isArray(image.documents)) throw new CorruptDataError(`${source}: documents is not an array`)
  return image as StoreImage
}
