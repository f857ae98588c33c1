// The page at /analytics/ in headless Chromium: it loads under its CSP, and after events are
// ingested and processed the chart draws their points and the backlog shows the counts.
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { BrowserContext, Page } from 'playwright-core'
import { launchChromium, type TestBrowser } from '@armature/testing/chromium'
import { waitFor } from '@armature/testing'
import { CANONICAL_BODY, post, startAnalytics, type AnalyticsKernel } from './support.ts'

const SCREENSHOT = join(import.meta.dirname, '.screenshots', 'analytics-page.png')

let a: AnalyticsKernel
let chrome: TestBrowser
let browser: BrowserContext
let page: Page
const pageErrors: string[] = []

test.before(async () => {
  a = await startAnalytics('pglite', { env: { ANALYTICS_POLL_INTERVAL_MS: '100' } })
  chrome = await launchChromium({ viewport: { width: 1000, height: 760 } })
  browser = chrome.context
  page = browser.pages()[0] ?? (await browser.newPage())
  // A failed load is checked by its response below (the browser's own /favicon.ico is no page file).
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text())
  })
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) pageErrors.push(`${response.url()} answered ${response.status()}`)
  })
  page.on('pageerror', (error) => pageErrors.push(error.message))
})

test.after(async () => {
  await chrome?.close()
  await a?.stop()
})

test('/analytics redirects to the page, served with a strict Content-Security-Policy', async () => {
  const bare = await fetch(`${a.url}/analytics`, { redirect: 'manual' })
  assert.is(bare.status, 301)
  assert.is(bare.headers.get('location'), '/analytics/')
  const res = await fetch(`${a.url}/analytics/`)
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/)
  assert.is((await fetch(`${a.url}/analytics/nothing/`)).status, 404)
})

test('the chart draws points once events are ingested, and the backlog shows the counts', async () => {
  await page.goto(`${a.url}/analytics/`)
  await page.waitForSelector('#status:text-matches("updated")')
  assert.is(await page.locator('#chart circle.point').count(), 0, 'no events yet, no points')
  for (let i = 0; i < 12; i++) assert.is((await post(a.url, { body: { ...CANONICAL_BODY, name: `page ${i}` } })).status, 202)
  await waitFor(async () => (await page.locator('#chart circle.point').count()) > 0, { timeoutMs: 15_000, what: 'a point on the chart' })
  await waitFor(async () => (await page.locator('#total').textContent()) === '12 events in the last hour', { timeoutMs: 15_000, what: 'the total' })
  const counts = await page.locator('#chart circle.point').evaluateAll((dots) => dots.map((dot) => Number(dot.getAttribute('data-count'))))
  assert.is(
    counts.reduce((x, y) => x + y, 0),
    12,
    'the points add up to the events sent',
  )
  assert.is(await page.locator('dd[data-key="pending"]').textContent(), '0')
  assert.is(await page.locator('dd[data-key="dead"]').textContent(), '0')
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  assert.equal(pageErrors, [])
})

test.run()
