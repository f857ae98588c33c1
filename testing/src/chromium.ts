// Headless Debian Chromium for page tests, driven by playwright-core (a dev dependency of the
// test that imports this): the flags this machine needs, a fresh profile, and a close that removes it.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

/** Without the background-networking flags Chromium keeps dialling hosts a closed network refuses. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface TestBrowser {
  readonly context: BrowserContext
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>
}

/** The path `which chromium` prints; a test that needs it fails (never skips) without it. */
export function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('chromium is not installed (apt-get install -y chromium); page tests need it')
  }
}

/** Launches headless Chromium with a fresh `--user-data-dir`. */
export async function launchChromium(options: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'armature-chromium-'))
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
      ...(options.viewport ? { viewport: options.viewport } : {}),
    })
    return {
      context,
      async close() {
        await context.close()
        rmSync(userDataDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true })
    throw error
  }
}
