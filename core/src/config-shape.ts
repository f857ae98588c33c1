// Types for plugin options: each option is a plain default (its type is the option's type) or
// a declared option (`option.int(10, { min: 1 })`) that also carries its limits.
export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue }

/** Marks a declared option; plain defaults carry no limits. */
export const OPTION = Symbol.for('armature.option')

/** An option with its default, the values it accepts, and how to read it from a string. */
export interface OptionSpec<T extends ConfigValue = ConfigValue> {
  readonly [OPTION]: true
  readonly default: T
  /** What is valid, for messages and docs: "an integer >= 1", "one of always, everysec, no". */
  readonly accepts: string
  /** Why a value is refused, or undefined when it is valid. */
  check(value: T): string | undefined
  /** Reads an environment value (or a string in the config file) when the default's type would not. */
  parse?(raw: string): T | undefined
}

export type ConfigShape = Record<string, ConfigValue | OptionSpec<any>>

type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer U)[]
        ? Widen<U>[]
        : T extends object
          ? { [K in keyof T]: Widen<T[K]> }
          : T

/** The options a plugin sees: a declared option's own type, else the default's widened type. */
export type ResolvedConfig<C> = { readonly [K in keyof C]: C[K] extends OptionSpec<infer T> ? T : Widen<C[K]> }

export function isOptionSpec(value: unknown): value is OptionSpec<any> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[OPTION] === true
}
