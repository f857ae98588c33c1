// The shortener plugin's domain, usable without the kernel: links, slugs, batched visit counts.
export { Shortener } from './shortener.ts'
export { LinkStore, MIGRATIONS } from './link-store.ts'
export { generateSlug, couldBeSlug, isReserved, CUSTOM_SLUG } from './slug.ts'
export { VisitCounter } from './visit-counter.ts'
