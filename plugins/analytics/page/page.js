// The analytics page: events per minute from /analytics/stats and the backlog from
// /analytics/backlog, polled every two seconds and drawn as SVG (no library, no innerHTML).
/* global document */
const SVG = 'http://www.w3.org/2000/svg'
const POLL_MS = 2000
const pendingHistory = []

function el(name, attributes, text) {
  const node = document.createElementNS(SVG, name)
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

function drawEvents(svg, stats) {
  const width = 800
  const height = 260
  const pad = { left: 44, right: 12, top: 12, bottom: 28 }
  const to = new Date(stats.to).getTime()
  const from = new Date(stats.from).getTime()
  const max = Math.max(1, ...stats.minutes.map((m) => m.count))
  const x = (t) => pad.left + ((t - from) / Math.max(1, to - from)) * (width - pad.left - pad.right)
  const y = (n) => height - pad.bottom - (n / max) * (height - pad.top - pad.bottom)
  svg.replaceChildren(
    el('line', { class: 'axis', x1: pad.left, y1: height - pad.bottom, x2: width - pad.right, y2: height - pad.bottom }),
    el('line', { class: 'axis', x1: pad.left, y1: pad.top, x2: pad.left, y2: height - pad.bottom }),
    el('text', { class: 'label', x: 4, y: pad.top + 10 }, String(max)),
    el('text', { class: 'label', x: 4, y: height - pad.bottom }, '0'),
    el('text', { class: 'label', x: pad.left, y: height - 8 }, new Date(from).toLocaleTimeString()),
    el('text', { class: 'label', x: width - pad.right - 60, y: height - 8 }, new Date(to).toLocaleTimeString()),
  )
  const points = stats.minutes.map((m) => [x(new Date(m.minute).getTime()), y(m.count), m])
  if (points.length > 1) svg.append(el('polyline', { class: 'line', points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ') }))
  for (const [px, py, m] of points) {
    const dot = el('circle', { class: 'point', cx: px.toFixed(1), cy: py.toFixed(1), r: 4, 'data-count': m.count })
    dot.append(el('title', {}, `${new Date(m.minute).toLocaleTimeString()}: ${m.count}`))
    svg.append(dot)
  }
}

function drawPending(svg) {
  const width = 800
  const height = 120
  const max = Math.max(1, ...pendingHistory)
  const step = (width - 20) / Math.max(1, pendingHistory.length - 1)
  const points = pendingHistory.map((n, i) => `${(10 + i * step).toFixed(1)},${(height - 10 - (n / max) * (height - 20)).toFixed(1)}`)
  svg.replaceChildren(el('text', { class: 'label', x: 4, y: 14 }, `max ${max}`))
  if (points.length > 1) svg.append(el('polyline', { class: 'pending', points: points.join(' ') }))
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } })
  if (!res.ok) throw new Error(`${path} answered ${res.status}`)
  return res.json()
}

async function refresh() {
  const status = document.getElementById('status')
  try {
    const [stats, backlog] = await Promise.all([getJson('stats'), getJson('backlog')])
    drawEvents(document.getElementById('chart'), stats)
    document.getElementById('total').textContent = `${stats.total} events in the last hour`
    for (const dd of document.querySelectorAll('#backlog dd')) {
      dd.textContent = String(backlog[dd.dataset.key])
      dd.classList.toggle('bad', dd.dataset.key === 'dead' && backlog.dead > 0)
    }
    pendingHistory.push(backlog.pending)
    if (pendingHistory.length > 150) pendingHistory.shift()
    drawPending(document.getElementById('backlog-chart'))
    status.textContent = `updated ${new Date().toLocaleTimeString()}`
  } catch (error) {
    status.textContent = `could not refresh: ${error.message}`
  }
}

void refresh()
setInterval(refresh, POLL_MS)
