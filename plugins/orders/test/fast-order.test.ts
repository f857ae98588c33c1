// The fast test of a valid order against the zod schema it stands in for: on every field given
// every kind of value at and around its limits, the fast path never accepts what zod refuses,
// and what both accept comes out the same, field for field and in the same order.
import { Faker, en } from '@faker-js/faker'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fakeOrder } from '../src/fake-order.ts'
import { fastOrder } from '../src/fast-order.ts'
import { looseFormatSchema, strictSchema } from '../src/schema.ts'
import { MODEL } from './support.ts'

const LENGTHS = [0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 32, 33, 35, 36, 64, 65, 128, 129, 256, 257, 512, 513]
const VALUES: unknown[] = [
  ...LENGTHS.map((n) => 'x'.repeat(n)),
  ...LENGTHS.map((n) => '7'.repeat(n)),
  ...LENGTHS.map((n) => '😀'.repeat(n)),
  'USD',
  'usd',
  'en',
  'ru-RU',
  '+79991234567',
  'a@b.co',
  'not an email',
  '2021-11-26T06:22:19Z',
  '2021-11-26T06:22:19+03:00',
  '2021-11-26 06:22:19',
  'has space',
  'a"quote\\and\nnewline',
  -1,
  -0,
  0,
  0.5,
  1,
  99,
  100,
  101,
  998,
  999,
  1000,
  253_402_300_799,
  253_402_300_800,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  1e21,
  null,
  true,
  {},
  [],
  [{}],
]

/** Every leaf and object path of the model, with a copy of the model where it holds `value` (or is missing). */
function* variants(model: Record<string, unknown>): Generator<[string, unknown]> {
  const paths: string[][] = []
  const walk = (value: unknown, path: string[]) => {
    paths.push(path)
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, String(i)]))
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k])
  }
  walk(model, [])
  for (const path of paths.slice(1)) {
    for (const value of [...VALUES, undefined]) {
      const copy = structuredClone(model)
      let at: Record<string, unknown> = copy
      for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>
      if (value === undefined) delete at[path.at(-1)!]
      else at[path.at(-1)!] = value
      yield [`${path.join('.')} = ${JSON.stringify(value)}`, copy]
    }
  }
  const extra = structuredClone(model)
  ;(extra.payment as Record<string, unknown>).extra = 1
  yield ['an unknown field', extra]
  yield ['an empty items list', { ...model, items: [] }]
  yield ['1001 items', { ...model, items: Array.from({ length: 1001 }, () => (model.items as unknown[])[0]) }]
  yield ['1000 items', { ...model, items: Array.from({ length: 1000 }, () => (model.items as unknown[])[0]) }]
  // The same fields in reverse order at every level: answered in the schema's order all the same.
  const reversed = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(reversed)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversed(v)]),
          )
        : value
  yield ['every object with its keys reversed', reversed(model)]
  const oneItemReversed = structuredClone(model)
  ;(oneItemReversed.items as unknown[])[0] = reversed((oneItemReversed.items as unknown[])[0])
  yield ['one item with its keys reversed', oneItemReversed]
  yield ['__proto__ as a key', JSON.parse(JSON.stringify(model).replace('{', '{"__proto__":1,'))]
}

for (const [name, schema, formats] of [
  ['formats checked', strictSchema, true],
  ['types only', looseFormatSchema, false],
] as const) {
  test(`${name}: never accepts what zod refuses; the same order when both accept`, () => {
    let accepted = 0
    let refused = 0
    for (const [label, input] of variants(MODEL as unknown as Record<string, unknown>)) {
      const zod = schema.safeParse(input)
      const fast = fastOrder(input, formats)
      if (fast === undefined) {
        refused++
        continue
      }
      accepted++
      assert.ok(zod.success, `fast accepted what zod refuses: ${label}`)
      assert.is(JSON.stringify(fast), JSON.stringify(zod.data), label)
    }
    // Both sides of the comparison ran: the fast path is not a test that refuses everything.
    assert.ok(accepted > 100 && refused > 100, `${accepted} accepted, ${refused} refused`)
  })
}

test('accepts every generated order, as zod does, with the same JSON', () => {
  const faker = new Faker({ locale: [en] })
  faker.seed(7)
  for (let i = 0; i < 500; i++) {
    const order = JSON.parse(JSON.stringify(fakeOrder(faker)))
    const fast = fastOrder(order, true)
    assert.ok(fast, `generated order ${i} refused`)
    assert.is(JSON.stringify(fast), JSON.stringify(strictSchema.parse(order)))
  }
})

test.run()
