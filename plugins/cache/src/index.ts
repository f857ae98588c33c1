// The cache plugin's domain, usable without the kernel: the store, its file log and Redis dump.
export { Cache } from './cache.ts'
export { Store, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT, MAX_TTL_MS } from './store.ts'
export { chooseRestore } from './restore.ts'
export { FSYNC_POLICIES, parseFsyncPolicy, type FsyncPolicy } from './fsync-policy.ts'
