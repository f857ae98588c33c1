// What the orders tests share: a throwaway database and queue, an independent amqplib publisher,
// raw HTTP (a GET with a body), and reading rows straight from PostgreSQL.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import amqp from 'amqplib'
import pg from 'pg'

export const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
export const AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672'
export const PLUGINS = ['db', 'orders'].map((name) => new URL(`../../${name}`, import.meta.url).pathname)
// The canonical order (../shared/data/order-model.json), shipped with the plugin so its tests run in a generated app too.
export const MODEL_TEXT = readFileSync(new URL('./order-model.json', import.meta.url), 'utf8')
export const MODEL = JSON.parse(MODEL_TEXT) as Record<string, any>

export const unique = (prefix: string) => `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`

export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = unique('orders').replaceAll('-', '_')
  await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE "${name}"`))
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) }
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Rows per table, counted in PostgreSQL. */
export async function rowCounts(url: string): Promise<{ orders: number; deliveries: number; payments: number; items: number }> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      'SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM deliveries)::int AS deliveries, (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM items)::int AS items',
    )
    return rows[0]
  })
}

/** A plain amqplib publisher with confirms: independent of the plugin and of the kernel's queue port. */
export class Publisher {
  readonly #connection: amqp.ChannelModel
  readonly #channel: amqp.ConfirmChannel
  constructor(connection: amqp.ChannelModel, channel: amqp.ConfirmChannel) {
    this.#connection = connection
    this.#channel = channel
  }
  static async open(): Promise<Publisher> {
    const connection = await amqp.connect(AMQP_URL)
    const channel = await connection.createConfirmChannel()
    return new Publisher(connection, channel)
  }
  get channel(): amqp.ConfirmChannel {
    return this.#channel
  }
  async publish(queue: string, body: unknown, options: amqp.Options.Publish = {}): Promise<void> {
    await this.#channel.assertQueue(queue, { durable: true })
    const content = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    this.#channel.sendToQueue(queue, content, { persistent: true, contentType: 'application/json', ...options })
    await this.#channel.waitForConfirms()
  }
  /** Every message now in `queue`, taken off it. */
  async drain(queue: string): Promise<amqp.GetMessage[]> {
    await this.#channel.assertQueue(queue, { durable: true })
    const got: amqp.GetMessage[] = []
    for (;;) {
      const message = await this.#channel.get(queue, { noAck: true })
      if (!message) return got
      got.push(message)
    }
  }
  async deleteQueues(...names: string[]): Promise<void> {
    for (const name of names) await this.#channel.deleteQueue(name).catch(() => undefined)
  }
  async close(): Promise<void> {
    await this.#connection.close().catch(() => undefined)
  }
}

/** A GET with a JSON body, which fetch cannot send: node:http does. */
export function getWithBody(url: string, body: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A valid order derived from the canonical one, under another uid (and optionally another creation date). */
export function orderLike(uid: string, dateCreated = MODEL.date_created as string): Record<string, any> {
  return { ...structuredClone(MODEL), order_uid: uid, date_created: dateCreated, payment: { ...MODEL.payment, transaction: uid } }
}
