// Armature plugin adapter: publishes the collections to plugins that declare `uses: ['collections']`.
import { definePlugin } from '@armature/core'
import * as collections from './src/index.ts'

declare module '@armature/core' {
  interface PluginApis {
    collections: typeof collections
  }
}

export default definePlugin({
  name: 'collections',
  version: '0.1.0',
  description: 'java.util-style collections for other plugins',
  setup(ctx) {
    ctx.provide(collections)
  },
})
