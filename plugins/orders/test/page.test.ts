// The page at /orders/ in headless Chromium: search the canonical order and read its sections,
// an order whose fields are markup shows as text and runs nothing, and a newly stored order
// appears in the list without a reload.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { BrowserContext, Page } from 'playwright-core'
import { launchChromium, type TestBrowser } from '@armature/testing/chromium'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { AMQP_URL, createTestDatabase, MODEL, MODEL_TEXT, orderLike, PLUGINS, Publisher, unique, type TestDatabase } from './support.ts'

const SCREENSHOTS = join(import.meta.dirname, '.screenshots')
const XSS = '<img src=x onerror=alert(1)>'

let database: TestDatabase
let publisher: Publisher
let k: TestKernel
let chrome: TestBrowser
let browser: BrowserContext
let page: Page
const queue = unique('orders-page')
const dialogs: string[] = []
const pageErrors: string[] = []

test.before(async () => {
  database = await createTestDatabase()
  publisher = await Publisher.open()
  k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue } })
  await publisher.publish(queue, MODEL_TEXT)
  const xss = orderLike('xss-order')
  xss.delivery.name = XSS
  xss.items[0].name = XSS
  xss.items[0].brand = '<script>document.title="owned"</script>'
  await publisher.publish(queue, xss)
  await waitFor(async () => (await fetch(`${k.url}/api/orders/xss-order`)).status === 200 && (await fetch(`${k.url}/api/orders/${MODEL.order_uid}`)).status === 200, {
    what: 'both orders stored',
  })
  mkdirSync(SCREENSHOTS, { recursive: true })
  chrome = await launchChromium({ viewport: { width: 1280, height: 900 } })
  browser = chrome.context
  page = browser.pages()[0] ?? (await browser.newPage())
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on('pageerror', (error) => pageErrors.push(error.message))
})

test.after(async () => {
  await chrome?.close()
  await k?.stop()
  await publisher?.deleteQueues(queue, `${queue}.dead`)
  await publisher?.close()
  await database?.drop()
})

const text = (selector: string) => page.locator(selector).innerText()

test('searching the canonical uid shows its delivery, payment and items', async () => {
  await page.goto(`${k.url}/orders/`)
  await page.locator('#live[data-state="open"]').waitFor()
  await page.fill('#uid', MODEL.order_uid)
  await page.click('#search button')
  await page.locator('#details:not([hidden])').waitFor()
  assert.is(await text('#title'), `Order ${MODEL.order_uid}`)
  const delivery = await text('#delivery')
  for (const value of [MODEL.delivery.name, MODEL.delivery.phone, MODEL.delivery.email, MODEL.delivery.city]) assert.ok(delivery.includes(value), value)
  const payment = await text('#payment')
  assert.ok(payment.includes('1817') && payment.includes('USD') && payment.includes('wbpay'))
  const cells = await page.locator('#items tbody td').allInnerTexts()
  assert.ok(cells.includes('Mascaras') && cells.includes('317') && cells.includes('Vivienne Sabo'))
  await page.screenshot({ path: join(SCREENSHOTS, 'orders-canonical.png'), fullPage: true })
})

test('an order whose fields are markup shows them as text and runs no script', async () => {
  await page.fill('#uid', 'xss-order')
  await page.click('#search button')
  await page.locator('#title', { hasText: 'xss-order' }).waitFor()
  assert.ok((await text('#delivery')).includes(XSS))
  assert.ok((await page.locator('#items tbody td').allInnerTexts()).includes(XSS))
  assert.is(await page.locator('main img, main script').count(), 0, 'no element was made from the data')
  assert.ok((await page.locator('#latest').innerText()).includes(XSS), 'the list shows the name as text too')
  assert.equal(dialogs, [])
  assert.is(await page.title(), 'Orders')
  await page.screenshot({ path: join(SCREENSHOTS, 'orders-xss.png'), fullPage: true })
})

test('an order stored while the page is open appears in the list without a reload', async () => {
  const uid = `live${Date.now()}`
  const before = await page.evaluate(() => performance.timeOrigin)
  await publisher.publish(queue, orderLike(uid, new Date().toISOString()))
  await page.locator(`#latest li[data-uid="${uid}"]`).waitFor({ timeout: 15_000 })
  assert.is(await page.evaluate(() => performance.timeOrigin), before, 'the page was not reloaded')
  await page.locator(`#latest li[data-uid="${uid}"] button`).click()
  await page.locator('#title', { hasText: uid }).waitFor()
  await page.screenshot({ path: join(SCREENSHOTS, 'orders-live.png'), fullPage: true })
  assert.equal(pageErrors, [])
})

test.run()
