// Plugins ship their own copy of the canonical test data (so their tests run in a generated
// app, outside this repository); here each copy is held equal to the original in ../shared/data.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'

const shared = (file: string) => readFileSync(new URL(`../../shared/data/${file}`, import.meta.url), 'utf8')
const shipped = (path: string) => readFileSync(new URL(`../plugins/${path}`, import.meta.url), 'utf8')

test("the orders plugin's canonical order is ../shared/data/order-model.json", () => {
  assert.equal(JSON.parse(shipped('orders/test/order-model.json')), JSON.parse(shared('order-model.json')))
})

test.run()
