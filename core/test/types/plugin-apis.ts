// Type-level checks, run by `npm run typecheck`: ctx.use is typed from the providers'
// PluginApis entries, and an option's declared type reaches ctx.config.
import { definePlugin, option } from '@armature/core'

definePlugin({
  name: 'typed-user',
  uses: ['db', 'collections?'],
  config: { fsync: option.enum(['always', 'no'], 'no'), size: option.int(3, { min: 1 }), label: 'x' },
  async setup(ctx) {
    const db = ctx.use('db')
    const rows: Array<{ n: number }> = (await db.query<{ n: number }>('select 1 as n')).rows
    void rows
    const fsync: 'always' | 'no' = ctx.config.fsync
    const size: number = ctx.config.size
    const label: string = ctx.config.label
    void [fsync, size, label]
    // @ts-expect-error an option's declared type is kept: 'sometimes' is not one of them
    const wrong: typeof ctx.config.fsync = 'sometimes'
    void wrong
    // @ts-expect-error the db plugin's API has no `drop`
    void db.drop
    // Names not in PluginApis fall back to an explicit type argument.
    const other = ctx.use<{ ping(): string }>('other')
    void other.ping
  },
})
