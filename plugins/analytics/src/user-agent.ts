// X-Tantum-UserAgent: `DeviceID=...;DeviceType=iOS;OsVersion=15.5;AppVersion=4.3 (725)`.

export interface TantumUserAgent {
  deviceId: string | null
  deviceType: string | null
  osVersion: string | null
  appVersion: string | null
  /** The build in parentheses after the app version (`725`). */
  appBuild: string | null
}

const EMPTY: TantumUserAgent = { deviceId: null, deviceType: null, osVersion: null, appVersion: null, appBuild: null }
/** Longest value kept per field: the header is the client's to fill. */
export const MAX_FIELD = 200

const field = (value: string | undefined): string | null => {
  const trimmed = value?.trim()
  return trimmed ? trimmed.slice(0, MAX_FIELD) : null
}

/** Unknown keys are ignored, missing ones are null; keys match in any case. */
export function parseTantumUserAgent(header: string | undefined): TantumUserAgent {
  if (!header) return EMPTY
  const pairs = new Map<string, string>()
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) pairs.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1))
  }
  const app = field(pairs.get('appversion'))
  const build = app ? /^(.*?)\s*\(([^)]*)\)\s*$/.exec(app) : null
  return {
    deviceId: field(pairs.get('deviceid')),
    deviceType: field(pairs.get('devicetype')),
    osVersion: field(pairs.get('osversion')),
    appVersion: build ? field(build[1]) : app,
    appBuild: build ? field(build[2]) : null,
  }
}
