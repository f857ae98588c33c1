// The package's public face: the types a user of `ctx.use('db')` needs, and the opener for use outside Armature.
export type { Database, DatabaseKind, ListenOptions, Migration, NotificationHandler, Queryable, QueryResult, Unlisten } from './database.ts'
export { DatabaseInputError, DatabaseUnavailableError, MigrationError } from './errors.ts'
export { openDatabase, type OpenDatabase, type OpenOptions } from './open.ts'
export { DatabaseOutageError, isUnavailable, unavailableReason } from './unavailable.ts'
export { AvailabilityWatch, DEFAULT_PROBE_INTERVAL_MS, watchAvailability, type AvailabilityOptions, type AvailabilityStatus } from './availability.ts'
