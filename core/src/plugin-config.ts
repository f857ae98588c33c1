// A plugin's options: its declared defaults < `plugins.<name>` in the config file < `<NAME>_<OPTION>`
// in the environment, each value coerced to the declared type and checked against its limits.
import { ConfigError } from './errors.ts'
import { isOptionSpec, type ConfigShape, type ConfigValue } from './config-shape.ts'
import { asBoolean, isPlainObject, type Env } from './config.ts'

/** Environment variable for a plugin option: cache + fsyncPolicy -> CACHE_FSYNC_POLICY. */
export function pluginEnvName(plugin: string, key: string): string {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[-.]/g, '_')
  return `${plugin.replace(/-/g, '_')}_${snake}`.toUpperCase()
}

/**
 * Checks the defaults' types, then layers file values and environment variables over them;
 * a declared option's limits are checked on the value that wins, naming where it came from.
 */
export function resolvePluginConfig(plugin: string, defaults: ConfigShape | undefined, fromFile: Record<string, unknown> | undefined, env: Env): Record<string, ConfigValue> {
  const shape = defaults ?? {}
  const result: Record<string, ConfigValue> = {}
  const examples: Record<string, ConfigValue> = {}
  for (const [key, declared] of Object.entries(shape)) {
    const value: ConfigValue = isOptionSpec(declared) ? declared.default : declared
    if (kindOf(value) === undefined) {
      throw new ConfigError(`${plugin}.config.${key}`, `unsupported option type ${typeof value} (use string, number, boolean, null, array or object)`)
    }
    examples[key] = value
    result[key] = value
  }
  if (fromFile !== undefined && !isPlainObject(fromFile)) throw new ConfigError(`plugins.${plugin}`, 'must be an object')
  const source: Record<string, string> = {}
  for (const [key, value] of Object.entries(fromFile ?? {})) {
    if (!(key in shape)) {
      throw new ConfigError(`plugins.${plugin}.${key}`, `unknown option (known: ${Object.keys(shape).join(', ') || 'none'})`)
    }
    result[key] = read(value, shape[key]!, examples[key]!, `plugins.${plugin}.${key}`, false)
    source[key] = `plugins.${plugin}.${key}=${shown(value)}`
  }
  for (const key of Object.keys(shape)) {
    const name = pluginEnvName(plugin, key)
    const raw = env[name]
    if (raw === undefined) continue
    result[key] = read(raw, shape[key]!, examples[key]!, name, true)
    source[key] = `${name}=${shown(raw)}`
  }
  for (const [key, declared] of Object.entries(shape)) {
    if (!isOptionSpec(declared)) continue
    const invalid = declared.check(result[key] as never)
    if (invalid) throw new ConfigError(source[key] ?? `${plugin}.config.${key}`, invalid)
  }
  return result
}

/** A value for a message: a URL's password is never shown. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@')
}

function read(value: unknown, declared: ConfigShape[string], example: ConfigValue, key: string, fromEnv: boolean): ConfigValue {
  if (isOptionSpec(declared) && declared.parse && typeof value === 'string') {
    const parsed = declared.parse(value)
    if (parsed === undefined) throw new ConfigError(key, `${shown(value)} is not ${declared.accepts}`)
    return parsed
  }
  return coerce(value, example, key, fromEnv)
}

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object'

function kindOf(value: unknown): Kind | undefined {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  switch (typeof value) {
    case 'string':
      return 'string'
    case 'number':
      return Number.isFinite(value) ? 'number' : undefined
    case 'boolean':
      return 'boolean'
    case 'object':
      return isPlainObject(value) ? 'object' : undefined
    default:
      return undefined
  }
}

function coerce(value: unknown, example: ConfigValue, key: string, fromEnv: boolean): ConfigValue {
  const kind = kindOf(example)!
  if (fromEnv && typeof value === 'string') {
    switch (kind) {
      case 'string':
      case 'null':
        return value
      case 'number': {
        const n = Number(value)
        if (value.trim() === '' || !Number.isFinite(n)) throw new ConfigError(key, `${JSON.stringify(value)} is not a number`)
        return n
      }
      case 'boolean':
        return asBoolean(value, key)
      case 'array':
        if (!value.trim().startsWith('['))
          return value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
      // falls through: JSON array
      case 'object':
        try {
          value = JSON.parse(value)
        } catch {
          throw new ConfigError(key, `${JSON.stringify(value)} is not valid JSON`)
        }
    }
  }
  const actual = kindOf(value)
  if (kind !== 'null' && actual !== kind) throw new ConfigError(key, `expected ${kind}, got ${actual ?? typeof value} ${JSON.stringify(value)}`)
  return value as ConfigValue
}

// ---- kernel option parsers ----
