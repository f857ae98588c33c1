#!/usr/bin/env node
// The kernel and plugins are TypeScript run as-is: tsx's loader is registered first.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli.ts')
