// Types for plugin options: the defaults declare each option's type.
export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue }
export type ConfigShape = Record<string, ConfigValue>

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

/** The options a plugin sees: the defaults' keys with their widened types. */
export type ResolvedConfig<C> = { readonly [K in keyof C]: Widen<C[K]> }
