// The orders page: every value is put into the page with textContent, never parsed as HTML.
'use strict'
/* global document, history, location */

const $ = (id) => document.getElementById(id)
const LATEST_MAX = 50

function el(tag, text, className) {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = String(text)
  if (className) node.className = className
  return node
}

function fillList(dl, object, keys) {
  dl.replaceChildren()
  for (const key of keys ?? Object.keys(object)) {
    const value = object[key]
    if (value !== null && typeof value === 'object') continue
    dl.append(el('dt', key), el('dd', value === '' ? '—' : value))
  }
}

function money(amount, currency) {
  return `${amount} ${currency ?? ''}`.trim()
}

function showOrder(order) {
  $('status').hidden = true
  $('details').hidden = false
  $('title').textContent = `Order ${order.order_uid}`
  fillList($('summary'), order)
  fillList($('delivery'), order.delivery ?? {})
  fillList($('payment'), order.payment ?? {})
  const items = Array.isArray(order.items) ? order.items : []
  const columns = items.length > 0 ? Object.keys(items[0]) : []
  const head = $('items').tHead.rows[0]
  head.replaceChildren(...columns.map((c) => el('th', c)))
  const body = $('items').tBodies[0]
  body.replaceChildren(
    ...items.map((item) => {
      const row = el('tr')
      row.append(...columns.map((c) => el('td', item[c])))
      return row
    }),
  )
}

function showStatus(text, isError) {
  $('details').hidden = true
  const status = $('status')
  status.hidden = false
  status.textContent = text
  status.className = isError ? 'error' : 'muted'
}

async function find(uid) {
  showStatus(`Looking up ${uid}…`)
  try {
    const response = await fetch(`../api/orders/${encodeURIComponent(uid)}`, { headers: { accept: 'application/json' } })
    const body = await response.json()
    if (!response.ok) return showStatus(body.error ?? `HTTP ${response.status}`, true)
    showOrder(body)
    history.replaceState(null, '', `#${encodeURIComponent(uid)}`)
  } catch (error) {
    showStatus(`The lookup failed: ${error.message}`, true)
  }
}

function listItem(order, fresh) {
  const li = el('li', undefined, fresh ? 'fresh' : undefined)
  li.dataset.uid = order.order_uid
  const button = el('button')
  button.type = 'button'
  const name = order.delivery?.name ?? ''
  const amount = order.payment ? money(order.payment.amount, order.payment.currency) : ''
  button.append(el('span', order.order_uid, 'uid'), el('span', `${name} · ${amount} · ${order.date_created}`, 'meta'))
  button.addEventListener('click', () => {
    $('uid').value = order.order_uid
    find(order.order_uid)
  })
  li.append(button)
  return li
}

function addLatest(order, fresh) {
  const list = $('latest')
  for (const li of list.children) if (li.dataset.uid === order.order_uid) return
  list.prepend(listItem(order, fresh))
  while (list.children.length > LATEST_MAX) list.lastElementChild.remove()
}

async function loadLatest() {
  try {
    const response = await fetch(`../api/orders?limit=${LATEST_MAX}`)
    const { orders } = await response.json()
    for (const order of [...orders].reverse()) addLatest(order, false)
  } catch {
    // The live feed still adds orders as they arrive.
  }
}

function connectLive(delayMs = 500) {
  const url = new URL('live', location.href)
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const socket = new WebSocket(url)
  const badge = $('live')
  socket.addEventListener('open', () => {
    badge.dataset.state = 'open'
    badge.textContent = 'live'
    delayMs = 500
  })
  socket.addEventListener('message', (event) => {
    try {
      const message = JSON.parse(event.data)
      if (message.type === 'stored' && message.order) addLatest(message.order, true)
    } catch {
      // not a message of this page
    }
  })
  socket.addEventListener('close', () => {
    badge.dataset.state = 'closed'
    badge.textContent = 'live: reconnecting'
    setTimeout(() => connectLive(Math.min(delayMs * 2, 10_000)), delayMs)
  })
}

document.addEventListener('DOMContentLoaded', () => {
  $('search').addEventListener('submit', (event) => {
    event.preventDefault()
    const uid = $('uid').value.trim()
    if (uid) find(uid)
  })
  connectLive()
  loadLatest()
  const fromHash = decodeURIComponent(location.hash.slice(1))
  if (fromHash) {
    $('uid').value = fromHash
    find(fromHash)
  }
})
