// The snapshot file: a whole-store image written atomically. The image goes to a
// temporary file, is fsynced, then renamed over the old one and the directory synced,
// so a crash at any point leaves either the old snapshot or the new one, never half.
import { open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { syncDirectory } from './file-log.ts'
import { decodeImage, encodeImage, type StoreImage } from './image.ts'

export const SNAPSHOT_FILE = 'snapshot.json'

export async function writeSnapshot(dir: string, image: StoreImage): Promise<void> {
  const target = join(dir, SNAPSHOT_FILE)
  const temp = `${target}.${process.pid}.tmp`
  const handle = await open(temp, 'w')
  try {
    await handle.writeFile(encodeImage(image))
    await handle.sync()
  } catch (err) {
    await handle.close()
    await rm(temp, { force: true })
    throw err
  }
  await handle.close()
  await rename(temp, target)
  await syncDirectory(dir)
}

/** The snapshot in `dir`, or undefined when there is none yet. */
export async function readSnapshot(dir: string): Promise<StoreImage | undefined> {
  const path = join(dir, SNAPSHOT_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return decodeImage(text, path)
}
