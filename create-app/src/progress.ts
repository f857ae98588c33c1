// Progress lines while the generator works. Plain lines, so they read the same in a
// terminal, a CI log and a test's captured output.
export interface Progress {
  step(text: string): void
  detail(text: string): void
  done(text: string): void
}

export function createProgress(write: (text: string) => void = (t) => void process.stdout.write(t)): Progress {
  let stepStarted = Date.now()
  return {
    step(text) {
      stepStarted = Date.now()
      write(`- ${text}\n`)
    },
    detail(text) {
      write(`    ${text.trim()}\n`)
    },
    done(text) {
      write(`  ${text} (${((Date.now() - stepStarted) / 1000).toFixed(1)} s)\n`)
    },
  }
}
