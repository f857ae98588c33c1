import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Coalesced } from '../src/coalesce.ts'

test('a call during a run gets a follow-up run that started after it, shared by all such callers', async () => {
  let started = 0
  const gates: (() => void)[] = []
  const task = new Coalesced(async () => {
    const n = ++started
    await new Promise<void>((r) => gates.push(r))
    return n
  })
  const first = task.run()
  const second = task.run()
  const third = task.run()
  assert.is(second, third)
  assert.is(started, 1)
  gates.shift()!()
  assert.is(await first, 1)
  await new Promise((r) => setImmediate(r))
  assert.is(started, 2, 'the follow-up started once the first finished')
  gates.shift()!()
  assert.is(await second, 2)
  const fourth = task.run()
  gates.shift()!()
  assert.is(await fourth, 3)
})

test('a failed run does not block the follow-up', async () => {
  let n = 0
  const task = new Coalesced(async () => {
    n++
    await new Promise((r) => setImmediate(r))
    if (n === 1) throw new Error('first fails')
    return n
  })
  const first = task.run()
  const second = task.run()
  await first.then(
    () => assert.unreachable(),
    (err: Error) => assert.is(err.message, 'first fails'),
  )
  assert.is(await second, 2)
})

test.run()
