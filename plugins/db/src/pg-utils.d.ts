// pg's conversion of a JavaScript value into a parameter's text (pg exports it as pg/lib/utils).
declare module 'pg/lib/utils.js' {
  export function prepareValue(value: unknown): string | Buffer | null
}
