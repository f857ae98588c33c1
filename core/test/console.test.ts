// The console page at /_armature/ in headless Chromium: the plugin table, request rates, the
// shutdown plan, a reload with the admin token that shows the plugin's build error, and the page's
// own rules (every value as text, a strict CSP, no token outside the tab).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { launchChromium, type TestBrowser } from '@armature/testing/chromium'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { pluginsFolder, textPlugin, writePlugin } from './support.ts'

const TOKEN = 'console-test-token'
const SCREENSHOTS = join(import.meta.dirname, '.screenshots')

const dir = pluginsFolder()
const alphaWiring = `
    ctx.onStop('drain jobs', () => undefined, { phase: 20 })
    ctx.onStop('flush counts', () => undefined)
    ctx.ws.route('/live', () => undefined)
    ctx.health.report('database', { ok: true })
    ctx.health.report('redis', { ok: false, reason: 'connection refused' })`
writePlugin(dir, 'alpha', textPlugin('alpha', 'a', alphaWiring))
writePlugin(dir, 'beta', textPlugin('beta', 'b', "ctx.onStop('close pool', () => undefined)"))
// Fails at boot with markup in its error: the page must show it as text.
writePlugin(dir, 'gamma', textPlugin('gamma', 'g', `throw new Error('<img src=x id=injected onerror="document.title=1"> is not wiring')`))

let k: TestKernel
let chrome: TestBrowser
let browser: BrowserContext
let page: Page
const pageErrors: string[] = []

test.before(async () => {
  k = await startTestKernel({ pluginsDir: dir, env: { ADMIN_TOKEN: TOKEN }, overrides: { shutdown: { order: { 'plugin:beta': 45 } } } })
  chrome = await launchChromium({ viewport: { width: 1280, height: 800 } })
  browser = chrome.context
  page = browser.pages()[0] ?? (await browser.newPage())
  page.on('console', (message) => {
    // 4xx/5xx answers the page expects (readiness 503, a refused token) log a line of their own.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of')) pageErrors.push(message.text())
  })
  page.on('pageerror', (error) => pageErrors.push(error.message))
})

test.after(async () => {
  await chrome?.close()
  await k?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const cell = (plugin: string, column: string) => page.locator(`tr[data-plugin="${plugin}"] td.${column}`)

test('GET / leads to the console, served with a strict Content-Security-Policy', async () => {
  const root = await fetch(`${k.url}/`, { redirect: 'manual' })
  assert.is(root.status, 302)
  assert.is(root.headers.get('location'), '/_armature/')
  assert.is((await fetch(`${k.url}/`, { method: 'POST', redirect: 'manual' })).status, 404)
  assert.is((await fetch(`${k.url}/_armature`, { redirect: 'manual' })).headers.get('location'), '/_armature/')
  const html = await fetch(`${k.url}/_armature/`)
  assert.is(html.status, 200)
  assert.match(html.headers.get('content-type')!, /^text\/html/)
  const csp = html.headers.get('content-security-policy')!
  assert.match(csp, /default-src 'none'/)
  assert.match(csp, /script-src 'self'/)
  assert.not.match(csp, /unsafe-inline|unsafe-eval/)
  assert.not.match(await html.text(), /<script>|<style>| style=| on[a-z]+=/)
  const script = await fetch(`${k.url}/_armature/console.js`)
  assert.match(script.headers.get('content-type')!, /^text\/javascript/)
  assert.not.match(await script.text(), /\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|localStorage\.|document\.cookie/)
})

test('the page lists the plugins with generation, status, routes and errors as text', async () => {
  await page.goto(`${k.url}/`)
  assert.is(new URL(page.url()).pathname, '/_armature/')
  await page.locator('tr[data-plugin="gamma"]').waitFor()
  assert.equal(await page.locator('#plugins tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-plugin'))), ['alpha', 'beta', 'gamma'])
  for (const name of ['alpha', 'beta']) {
    assert.is(await cell(name, 'generation').textContent(), '1')
    assert.is(await cell(name, 'status').textContent(), 'running')
    assert.match((await cell(name, 'name').textContent())!, new RegExp(`^${name} 1\\.0\\.0`))
  }
  assert.equal(await cell('alpha', 'routes').locator('li').allTextContents(), ['/alpha', 'ws /alpha/live'])
  assert.equal(await cell('beta', 'routes').locator('li').allTextContents(), ['/beta'])
  assert.equal(await cell('alpha', 'health').locator('li').allTextContents(), ['✓ database', '✗ redis: connection refused'])
  assert.is(await cell('beta', 'health').textContent(), '—')
  assert.is(await cell('gamma', 'status').textContent(), 'failed')
  assert.is(await cell('gamma', 'generation').textContent(), '—')
  assert.match((await cell('gamma', 'error').textContent())!, /setup failed: <img src=x id=injected onerror="document.title=1"> is not wiring/)
  assert.is(await page.locator('#injected').count(), 0)
  assert.is(await page.title(), 'Armature console')
  assert.match((await page.locator('#readiness').textContent())!, /not ready: failed plugins: gamma/)
})

test('request rates per plugin come from two scrapes of /metrics', async () => {
  await waitFor(
    async () => {
      await Promise.all(Array.from({ length: 20 }, () => fetch(`${k.url}/alpha`).then((r) => r.text())))
      return Number(await cell('alpha', 'rate').textContent()) > 0
    },
    { timeoutMs: 20_000, intervalMs: 100, what: "alpha's request rate to show" },
  )
  assert.is(await cell('beta', 'rate').textContent(), '0.0')
})

test('the shutdown plan shows the phases and entries the kernel would run', async () => {
  const plan = k.kernel.stopPlan()
  const shown = await page
    .locator('#plan > li')
    .evaluateAll((items) => items.map((li) => ({ label: li.querySelector('.phase')!.textContent, ids: [...li.querySelectorAll('code')].map((c) => c.textContent) })))
  assert.equal(
    shown,
    plan.phases.map((p) => ({ label: p.label, ids: p.entries.map((e) => e.id) })),
  )
  assert.equal(
    shown.map((p) => p.label),
    ['0 Ready', '10 Ingress', '20 Work', '30 Flush', '45', '50 Final'],
  )
  assert.equal(shown[1]!.ids, ['http', 'ws'])
  assert.equal(shown[2]!.ids, ['plugin:alpha:drain jobs'])
  assert.equal(shown[4]!.ids, ['plugin:beta:close pool'], 'moved by shutdown.order')
  assert.is(await page.locator('#deadline').textContent(), '10 s')
})

test('a reload asks for the token, retries a refused one and shows the build error', async () => {
  writeFileSync(join(dir, 'beta', 'index.ts'), "export default definePlugin({ name: 'beta', setup(ctx) { ctx.http.route( }")
  await cell('beta', 'actions').getByRole('button', { name: 'Reload beta' }).click()
  await page.locator('#token-dialog').waitFor()
  assert.is(await page.locator('#token-plugin').textContent(), 'beta')
  await page.fill('#token-input', 'wrong-token')
  await page.click('#token-submit')
  await waitFor(async () => /refused that token/.test((await page.locator('#token-error').textContent()) ?? ''), { what: 'the refused token to show' })
  assert.ok(await page.locator('#token-dialog').isVisible())
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, 'console-token.png') })
  await page.fill('#token-input', TOKEN)
  await page.click('#token-submit')
  await waitFor(async () => /Reload of beta failed \(422\)/.test((await page.locator('#message').textContent()) ?? ''), { what: 'the failed reload message' })
  const message = (await page.locator('#message').textContent())!
  assert.match(message, /plugin 'beta': build failed: .*index\.ts:1:\d+/)
  assert.match(message, /generation 1 keeps serving$/)
  await waitFor(async () => /build failed/.test((await cell('beta', 'error').textContent()) ?? ''), { what: "beta's last error in the table" })
  assert.is(await cell('beta', 'status').textContent(), 'running')
  assert.is(await cell('beta', 'generation').textContent(), '1')
  assert.ok(await page.locator('tr[data-plugin="beta"]').evaluate((tr) => tr.classList.contains('has-error')))
  await page.screenshot({ path: join(SCREENSHOTS, 'console.png'), fullPage: true })
})

test('the token stays in the tab: a second reload needs no prompt, nothing in localStorage or cookies', async () => {
  await cell('alpha', 'actions').getByRole('button', { name: 'Reload alpha' }).click()
  await waitFor(async () => (await page.locator('#message').textContent()) === 'alpha: generation 2 swapped in', { what: 'the swap message' })
  assert.not.ok(await page.locator('#token-dialog').isVisible())
  await waitFor(async () => (await cell('alpha', 'generation').textContent()) === '2', { what: 'generation 2 in the table' })
  assert.is(await page.evaluate(() => localStorage.length), 0)
  assert.is(await page.evaluate(() => sessionStorage.length), 0, 'kept in sessionStorage only when asked')
  assert.equal(await browser.cookies(), [])
  await page.click('#forget-token')
  await cell('alpha', 'actions').getByRole('button', { name: 'Reload alpha' }).click()
  await page.locator('#token-dialog').waitFor()
  await page.click('#token-cancel')
  assert.not.ok(await page.locator('#token-dialog').isVisible())
  assert.equal(pageErrors, [], 'no script errors or CSP violations on the page')
})

test('a plugin that claims / keeps it', async () => {
  writePlugin(
    dir,
    'root',
    `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({ name: 'root', setup(ctx) { ctx.http.route(new Hono().get('/', (c) => c.text('root page')), { base: '/' }) } })
`,
  )
  const reload = await fetch(`${k.url}/_armature/plugins/root/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
  assert.is(reload.status, 200, await reload.text())
  const root = await fetch(`${k.url}/`, { redirect: 'manual' })
  assert.is(root.status, 200)
  assert.is(await root.text(), 'root page')
})

test('the plan the page showed is the order a stop runs', async () => {
  await browser.close()
  const plan = k.kernel.stopPlan()
  const report = await k.stop()
  assert.ok(report.ok)
  assert.equal(
    report.order,
    plan.phases.map((p) => ({ phase: p.phase, ids: p.entries.map((e) => e.id) })),
  )
})

test.run()
