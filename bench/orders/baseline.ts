// The consumer as typical solutions of the orders assignment write it: acknowledge on receipt,
// then one autocommit INSERT per table (and per item), no transaction, no idempotency.
// Run by bench/orders/run.ts: node --import tsx baseline.ts <amqp url> <database url> <queue> <prefetch> <pool size>
import amqp from 'amqplib'
import pg from 'pg'
import { createdMs, type Order } from '../../plugins/orders/src/index.ts'

const [amqpUrl, databaseUrl, queue, prefetch, poolSize] = process.argv.slice(2) as [string, string, string, string, string]
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(poolSize) })
const connection = await amqp.connect(amqpUrl)
const channel = await connection.createChannel()
await channel.prefetch(Number(prefetch))
await channel.assertQueue(queue, { durable: true })
let pending = 0
await channel.consume(queue, (message) => {
  if (!message) return
  channel.ack(message) // acknowledged before anything is stored: a crash now loses the order
  const o = JSON.parse(message.content.toString()) as Order
  pending++
  void store(o)
    .catch((error: Error) => console.error(`lost ${o.order_uid}: ${error.message}`))
    .finally(() => pending--)
})
process.stdout.write('ready\n')
// Stops taking messages, lets the stores in flight finish, then exits.
process.on('SIGTERM', () => {
  void connection.close().then(async () => {
    while (pending > 0) await new Promise((r) => setTimeout(r, 20))
    await pool.end()
    process.exit(0)
  })
})

async function store(o: Order): Promise<void> {
  const d = o.delivery
  const p = o.payment
  await pool.query(
    'INSERT INTO orders (order_uid, track_number, entry, locale, internal_signature, customer_id, delivery_service, shardkey, sm_id, date_created, created_ms, oof_shard) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)',
    [o.order_uid, o.track_number, o.entry, o.locale, o.internal_signature, o.customer_id, o.delivery_service, o.shardkey, o.sm_id, o.date_created, createdMs(o), o.oof_shard],
  )
  await pool.query('INSERT INTO deliveries (order_uid, name, phone, zip, city, address, region, email) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)', [
    o.order_uid,
    d.name,
    d.phone,
    d.zip,
    d.city,
    d.address,
    d.region,
    d.email,
  ])
  await pool.query(
    'INSERT INTO payments (order_uid, transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)',
    [o.order_uid, p.transaction, p.request_id, p.currency, p.provider, p.amount, p.payment_dt, p.bank, p.delivery_cost, p.goods_total, p.custom_fee],
  )
  for (const [i, it] of o.items.entries()) {
    await pool.query(
      'INSERT INTO items (order_uid, position, chrt_id, track_number, price, rid, name, sale, size, total_price, nm_id, brand, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)',
      [o.order_uid, i, it.chrt_id, it.track_number, it.price, it.rid, it.name, it.sale, it.size, it.total_price, it.nm_id, it.brand, it.status],
    )
  }
}
