// The console page's script. It polls the kernel's public JSON and /metrics, renders every value
// as text (createElement and textContent only, never markup built from data), and sends reloads
// with the admin token the user typed. The token lives in a variable, and in this tab's
// sessionStorage only when the user asks; never in localStorage or a cookie.

const TOKEN_KEY = 'armature-admin-token'
/** Counters whose per-plugin sums make the req/s column. */
const REQUEST_COUNTERS = new Set(['armature_http_requests_total', 'armature_grpc_calls_total'])
const REFRESH_MS = refreshInterval()

let token = sessionStorage.getItem(TOKEN_KEY) ?? ''
/** The last /metrics sample: when it was taken and the request count per plugin. */
let previousSample
let rates = new Map()
let hasRates = false
/** plugin name -> its table row and cells, kept across refreshes so buttons and selections stay. */
const rows = new Map()
/** What each element was last built from, so an unchanged value is not rebuilt. */
const builtFrom = new WeakMap()

const $ = (selector) => document.querySelector(selector)

/** `?refresh=<seconds>` (1 to 60, default 2). */
function refreshInterval() {
  const seconds = Number(new URLSearchParams(location.search).get('refresh') ?? 2)
  return Math.min(60, Math.max(1, Number.isFinite(seconds) ? seconds : 2)) * 1000
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = String(value)
    else if (key === 'class') node.className = value
    else node.setAttribute(key, String(value))
  }
  node.append(...children)
  return node
}

/** Rebuilds `node`'s children only when `value` differs from what they were built from. */
function update(node, value, build) {
  const key = JSON.stringify(value) ?? 'undefined'
  if (builtFrom.get(node) === key) return
  builtFrom.set(node, key)
  node.replaceChildren(...build())
}

function formatMs(ms) {
  if (typeof ms !== 'number') return '?'
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`
}

// ---- polling ----

let refreshing
let refreshAgain = false
let timer

/** Refreshes now, or right after the refresh in progress; then again every REFRESH_MS. */
function refreshSoon() {
  if (refreshing) {
    refreshAgain = true
    return refreshing
  }
  clearTimeout(timer)
  refreshing = (document.hidden ? Promise.resolve() : refresh()).finally(() => {
    refreshing = undefined
    if (refreshAgain) {
      refreshAgain = false
      void refreshSoon()
    } else {
      timer = setTimeout(refreshSoon, REFRESH_MS)
    }
  })
  return refreshing
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' })
  return response.json()
}

async function refresh() {
  try {
    const [plugins, readiness, plan, metrics] = await Promise.all([
      getJson('plugins'),
      getJson('../readyz'),
      getJson('shutdown-plan'),
      fetch('../metrics', { cache: 'no-store' }).then((response) => (response.ok ? response.text() : '')),
    ])
    sampleRates(requestCounts(metrics))
    renderReadiness(readiness)
    renderPlugins(plugins)
    renderPlan(plan)
    $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`
  } catch (error) {
    renderReadiness({ ready: false, reason: `kernel unreachable: ${error.message}` })
  }
}

// ---- request rates from /metrics ----

/** Requests per plugin, summed over the request counters' series in Prometheus text. */
function requestCounts(text) {
  const counts = new Map()
  for (const line of text.split('\n')) {
    const open = line.indexOf('{')
    if (open === -1 || !REQUEST_COUNTERS.has(line.slice(0, open))) continue
    const close = line.lastIndexOf('}')
    const value = Number(
      line
        .slice(close + 1)
        .trim()
        .split(/\s+/)[0],
    )
    const plugin = labels(line.slice(open + 1, close)).get('plugin')
    if (plugin !== undefined && Number.isFinite(value)) counts.set(plugin, (counts.get(plugin) ?? 0) + value)
  }
  return counts
}

/** The `name="value"` pairs of a label set, unescaped (values may hold `\\`, `\"`, `\n`). */
function labels(text) {
  const result = new Map()
  for (const [, name, raw] of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    result.set(
      name,
      raw.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c)),
    )
  }
  return result
}

function sampleRates(counts) {
  const at = performance.now()
  if (previousSample) {
    const seconds = (at - previousSample.at) / 1000
    rates = new Map()
    hasRates = true
    for (const [plugin, count] of counts) {
      const delta = count - (previousSample.counts.get(plugin) ?? 0)
      // A count that fell belongs to a restarted kernel: no rate until the next sample.
      rates.set(plugin, delta >= 0 && seconds > 0 ? delta / seconds : 0)
    }
  }
  previousSample = { at, counts }
}

function rateText(plugin) {
  // One sample gives counts, not a rate.
  if (!hasRates) return '…'
  const rate = rates.get(plugin) ?? 0
  return rate < 10 ? rate.toFixed(1) : String(Math.round(rate))
}

// ---- rendering ----

function renderReadiness({ ready, reason }) {
  const badge = $('#readiness')
  badge.textContent = ready ? 'ready' : `not ready: ${reason ?? 'unknown'}`
  badge.className = `badge ${ready ? 'ok' : 'bad'}`
}

function renderPlugins({ plugins = [], rejected = [] }) {
  const body = $('#plugins tbody')
  const seen = new Set()
  plugins.forEach((plugin, i) => {
    seen.add(plugin.name)
    let row = rows.get(plugin.name)
    if (!row) rows.set(plugin.name, (row = makeRow(plugin.name)))
    fillRow(row, plugin)
    if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] ?? null)
  })
  for (const [name, row] of rows) {
    if (!seen.has(name)) {
      row.tr.remove()
      rows.delete(name)
    }
  }
  $('#no-plugins').hidden = plugins.length > 0
  $('#rejected').hidden = rejected.length === 0
  update($('#rejected ul'), rejected, () =>
    rejected.map((r) => el('li', {}, el('code', { text: r.path ?? r.name ?? '' }), ' ', el('span', { class: 'error-text', text: r.error ?? '' }))),
  )
}

function makeRow(name) {
  const tr = el('tr', { 'data-plugin': name })
  const cells = {}
  for (const key of ['name', 'generation', 'status', 'routes', 'rate', 'health', 'error', 'actions']) tr.append((cells[key] = el('td', { class: key })))
  const button = el('button', { type: 'button', class: 'reload', text: 'Reload', 'aria-label': `Reload ${name}` })
  button.addEventListener('click', () => void reload(name, button))
  cells.actions.append(button)
  return { tr, cells }
}

function fillRow({ tr, cells }, plugin) {
  const { name, version, description, generation, status, lastError, loadedAt } = plugin
  const uses = plugin.uses ?? []
  update(cells.name, [name, version, description, uses], () => [
    el('span', { class: 'plugin-name', text: name }),
    ...(version ? [' ', el('span', { class: 'muted', text: version })] : []),
    ...(description ? [el('div', { class: 'muted small', text: description })] : []),
    ...(uses.length ? [el('div', { class: 'muted small', text: `uses ${uses.join(', ')}` })] : []),
  ])
  cells.generation.textContent = generation ?? '—'
  cells.generation.title = loadedAt ? `loaded at ${loadedAt}` : ''
  update(cells.status, status, () => [el('span', { class: `badge ${status === 'running' ? 'ok' : 'bad'}`, text: status })])
  const routes = [...(plugin.routes ?? []), ...(plugin.websockets ?? []).map((p) => `ws ${p}`), ...(plugin.grpc ?? []).map((m) => `grpc ${m}`)]
  update(cells.routes, routes, () => (routes.length ? [el('ul', { class: 'plain' }, ...routes.map((r) => el('li', {}, el('code', { text: r }))))] : ['—']))
  cells.rate.textContent = rateText(name)
  const health = healthComponents(plugin.health)
  update(cells.health, health, () =>
    health.length
      ? [
          el(
            'ul',
            { class: 'plain' },
            ...health.map(([component, state]) =>
              el('li', {
                class: state.ok ? 'ok-text' : 'error-text',
                text: `${state.ok ? '✓' : '✗'} ${component}${state.reason ? `: ${state.reason}` : ''}`,
                title: state.since ? `since ${state.since}` : '',
              }),
            ),
          ),
        ]
      : ['—'],
  )
  update(cells.error, lastError, () => (lastError ? [el('pre', { class: 'error-text', text: lastError })] : []))
  tr.classList.toggle('has-error', Boolean(lastError))
}

/** The reported components as [component, { ok, reason, since }] pairs. */
function healthComponents(health) {
  return health && typeof health === 'object' ? Object.entries(health).filter(([, state]) => state && typeof state === 'object') : []
}

function renderPlan({ deadlineMs, phases = [] }) {
  $('#deadline').textContent = formatMs(deadlineMs)
  update($('#plan'), phases, () =>
    phases.map(({ label, entries }) =>
      el(
        'li',
        {},
        el('span', { class: 'phase', text: label }),
        el(
          'ul',
          { class: 'entries' },
          ...entries.map(({ id, timeoutMs }) => el('li', {}, el('code', { text: id }), el('span', { class: 'muted', text: ` ${formatMs(timeoutMs)}` }))),
        ),
      ),
    ),
  )
}

function showMessage(text, kind) {
  const message = $('#message')
  message.textContent = text
  message.className = kind
  message.hidden = false
}

// ---- reload with the admin token ----

async function reload(name, button) {
  let problem
  for (;;) {
    if (!token || problem) {
      if (!(await askToken(name, problem))) return
    }
    button.disabled = true
    button.textContent = 'Reloading…'
    try {
      const response = await fetch(`plugins/${encodeURIComponent(name)}/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      const body = await response.json().catch(() => ({}))
      if (response.status === 401) {
        forgetToken()
        problem = `The kernel refused that token: ${body.error ?? 'unauthorized'}`
        continue
      }
      if (response.ok)
        showMessage(body.status === 'unchanged' ? `${name}: unchanged, generation ${body.generation} serves` : `${name}: generation ${body.generation} swapped in`, 'ok')
      else
        showMessage(
          `Reload of ${name} failed (${response.status}): ${body.error ?? response.statusText}${typeof body.generation === 'number' ? `; generation ${body.generation} keeps serving` : ''}`,
          'bad',
        )
    } catch (error) {
      showMessage(`Reload of ${name} failed: ${error.message}`, 'bad')
    } finally {
      button.disabled = false
      button.textContent = 'Reload'
    }
    void refreshSoon()
    return
  }
}

let answerToken

/** Opens the token dialog; resolves true once a token is set, false when cancelled. */
function askToken(name, problem) {
  $('#token-plugin').textContent = name
  $('#token-error').textContent = problem ?? ''
  $('#token-error').hidden = !problem
  $('#token-input').value = ''
  $('#token-dialog').showModal()
  return new Promise((resolve) => (answerToken = resolve))
}

function settleToken(given) {
  const resolve = answerToken
  answerToken = undefined
  resolve?.(given)
}

function setToken(value, remember) {
  token = value
  if (remember) sessionStorage.setItem(TOKEN_KEY, value)
  else sessionStorage.removeItem(TOKEN_KEY)
  $('#forget-token').hidden = false
}

function forgetToken() {
  token = ''
  sessionStorage.removeItem(TOKEN_KEY)
  $('#forget-token').hidden = true
}

$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const value = $('#token-input').value
  if (!value) return
  setToken(value, $('#token-remember').checked)
  settleToken(true)
  $('#token-dialog').close()
})
$('#token-cancel').addEventListener('click', () => $('#token-dialog').close())
$('#token-dialog').addEventListener('close', () => settleToken(false))
$('#forget-token').addEventListener('click', () => {
  forgetToken()
  showMessage('The admin token is forgotten.', 'ok')
})
$('#forget-token').hidden = !token
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refreshSoon()
})
void refreshSoon()
