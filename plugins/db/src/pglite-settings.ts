// PostgreSQL memory settings for the embedded database, passed as `-c name=value` on every open.
//
// PGlite runs PostgreSQL in one WebAssembly memory that grows and is never given back until the
// process exits, so every buffer PostgreSQL sizes for a server (shared_buffers 128MB, index
// builds with 64MB) stays resident. Command-line settings override the cluster's
// postgresql.conf, so folders created by any version get them too.

export interface PgliteSettings {
  /** PostgreSQL's page cache inside the WebAssembly memory. */
  sharedBuffers: string
  /** Per sort or hash step of a query before it spills to temporary files. */
  workMem: string
  /** Per CREATE INDEX, VACUUM or ALTER TABLE ADD FOREIGN KEY. */
  maintenanceWorkMem: string
}

export const PGLITE_DEFAULTS: PgliteSettings = {
  sharedBuffers: '16MB',
  workMem: '4MB',
  maintenanceWorkMem: '16MB',
}

const PARAMETERS: Record<keyof PgliteSettings, string> = {
  sharedBuffers: 'shared_buffers',
  workMem: 'work_mem',
  maintenanceWorkMem: 'maintenance_work_mem',
}

/** A PostgreSQL memory size: a number of kilobytes, or a number with kB, MB or GB. */
export const PG_MEMORY_SIZE = /^[1-9][0-9]{0,9}(kB|MB|GB)?$/

/** The settings as PostgreSQL command-line arguments. */
export function settingArgs(settings: PgliteSettings): string[] {
  return (Object.keys(PARAMETERS) as Array<keyof PgliteSettings>).flatMap((key) => ['-c', `${PARAMETERS[key]}=${settings[key]}`])
}
