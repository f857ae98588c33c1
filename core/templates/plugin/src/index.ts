// The plugin's domain, usable without the kernel.
export { HitCounter } from './hit-counter.ts'
