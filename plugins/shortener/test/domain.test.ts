// The domain without a kernel: slugs, validation, batched counting.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSlug, isReserved } from '../src/slug.ts'
import { parseLinkInput } from '../src/validation.ts'
import { InvalidFieldError } from '../src/errors.ts'
import { VisitCounter } from '../src/visit-counter.ts'

test('generated slugs are base62 of the asked length', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 1000; i++) {
    const slug = generateSlug(7)
    assert.match(slug, /^[A-Za-z0-9]{7}$/)
    seen.add(slug)
  }
  assert.is(seen.size, 1000)
  assert.ok(isReserved('Admin'))
})

test('validation names the field and applies defaults', () => {
  assert.equal(parseLinkInput({ url: 'https://x.org' }), {
    url: 'https://x.org/',
    slug: undefined,
    mode: 'redirect',
    status: 302,
    expiresAt: null,
    maxVisits: null,
  })
  for (const [body, field] of [
    [{ url: 'https://u:p@x.org' }, 'url'],
    [{ url: 'https://x.org', mode: 'tunnel' }, 'mode'],
    [{ url: 'https://x.org', extra: 1 }, 'extra'],
    [{ url: 'https://x.org', maxVisits: 1.5 }, 'maxVisits'],
    [{ url: 'https://x.org', expiresAt: 'soon' }, 'expiresAt'],
    [{ url: 'https://x.org', expiresAt: 'Jan 1 2031' }, 'expiresAt'],
    [{ url: 'https://x.org', expiresAt: '2031-01-01T00:00:00' }, 'expiresAt'],
    [{ url: 'https://x.org', expiresAt: '2031-02-29T00:00:00Z' }, 'expiresAt'],
    [{ url: 'https://x.org', expiresAt: '2031-01-01T24:00:00Z' }, 'expiresAt'],
    [{ url: 'https://x.org', expiresAt: '+275760-09-13T00:00:00.000Z' }, 'expiresAt'],
    [{ url: 'https://x.org', expiresAt: '9999-12-31T23:00:00-05:00' }, 'expiresAt'],
    [{ url: 'https://x.org', expiresAt: 1924992000000 }, 'expiresAt'],
  ] as const) {
    try {
      parseLinkInput(body)
      assert.unreachable(JSON.stringify(body))
    } catch (error) {
      assert.instance(error, InvalidFieldError)
      assert.is((error as InvalidFieldError).field, field)
    }
  }
})

test('expiresAt takes ISO 8601 with a timezone, to the millisecond, up to the year 9999', () => {
  const expiry = (expiresAt: string) => parseLinkInput({ url: 'https://x.org', expiresAt }).expiresAt
  assert.is(expiry('2032-02-29T09:30:00.5+02:00'), '2032-02-29T07:30:00.500Z')
  assert.is(expiry('2031-01-01t00:00z'), '2031-01-01T00:00:00.000Z')
  assert.is(expiry('9999-12-31T23:59:59.999Z'), '9999-12-31T23:59:59.999Z')
})

test('visits are written in one numbered batch per flush; a failed batch is written again first, under its number', async () => {
  const batches: Array<[number, Map<string, number>]> = []
  let failNext = true
  const counter = new VisitCounter({
    async addVisits(counts, batch) {
      batches.push([batch, new Map(counts)])
      if (failNext) {
        failNext = false
        throw new Error('database down')
      }
    },
  })
  for (let i = 0; i < 100; i++) counter.record(i % 2 ? 'a' : 'b')
  try {
    await counter.flush()
    assert.unreachable('the first flush fails')
  } catch (error) {
    assert.is((error as Error).message, 'database down')
  }
  assert.ok(counter.unsettled)
  assert.is(counter.pending('a'), 50, 'the failed batch is still counted in memory')
  counter.record('a')
  assert.is(counter.pending('a'), 51)
  await Promise.all([counter.flush(), counter.flush()])
  assert.equal(batches, [
    [
      1,
      new Map([
        ['b', 50],
        ['a', 50],
      ]),
    ],
    [
      1,
      new Map([
        ['b', 50],
        ['a', 50],
      ]),
    ],
    [2, new Map([['a', 1]])],
  ])
  assert.not.ok(counter.unsettled)
  assert.is(counter.pending('a'), 0)
})

test('a batch applied but answered with an error is counted once when the sink skips numbers it has seen', async () => {
  const stored = new Map<string, number>()
  let applied = 0
  let loseAnswer = true
  const counter = new VisitCounter({
    async addVisits(counts, batch) {
      if (batch > applied) {
        for (const [slug, n] of counts) stored.set(slug, (stored.get(slug) ?? 0) + n)
        applied = batch
      }
      if (loseAnswer) {
        loseAnswer = false
        throw new Error('connection lost')
      }
    },
  })
  counter.record('a')
  await counter.flush().catch(() => {})
  counter.record('a')
  await counter.flush()
  assert.is(stored.get('a'), 2)
})

test.run()
