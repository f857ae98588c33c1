// The claims check alone: no kernel, no servers.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkClaims, type Claimant } from '../src/claims.ts'

const refuse = (plugin: string, message: string) => new Error(`${plugin}: ${message}`)
const base = (plugin: string, ...keys: string[]): Claimant => ({ plugin, claims: keys.map((key) => ({ kind: 'route base', key })) })

test('a base another running plugin holds is refused, naming both', () => {
  assert.throws(() => checkClaims([base('first', '/shared')], [base('second', '/shared')], refuse), /second: route base \/shared is already claimed by plugin 'first'/)
})

test('a plugin being replaced may keep its own claims', () => {
  checkClaims([base('cache', '/cache')], [base('cache', '/cache')], refuse)
})

test('two incoming plugins may not claim one thing', () => {
  assert.throws(() => checkClaims([], [base('a', '/x'), base('b', '/x')], refuse), /b: route base \/x is already claimed by plugin 'a'/)
})

test('the same key of another kind is no collision', () => {
  checkClaims([base('a', '/x')], [{ plugin: 'b', claims: [{ kind: 'WebSocket path', key: '/x' }] }], refuse)
})

test('a replaced plugin frees what it held for another incoming one', () => {
  checkClaims([base('old', '/x')], [base('old'), base('new', '/x')], refuse)
})

test.run()
