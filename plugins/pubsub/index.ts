// The pubsub plugin: a broker (topics, partitions, consumer groups, offsets, pull and push)
// kept across reloads, and the queue port's built-in backend on top of it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkBearer, definePlugin, option, Phase, requireBearer } from '@armature/core'
import { Hono } from 'hono'
import { PubsubQueueBackend } from './queue-backend.ts'
import { Broker, KEYLESS_STRATEGIES, MemoryStorage } from './src/index.ts'
import { DEFAULT_CACHE_BYTES, FileStorage, FSYNC_POLICIES } from './src/storage/file.ts'
import { LocalPushBroker } from './src/subscription.ts'
import { RemotePushBroker } from './src/client/index.ts'
import { registerGrpc } from './grpc-service.ts'
import { pubsubHttp } from './src/http/app.ts'
import { ConsumerInstances } from './src/http/consumer-instances.ts'
import { IngressGate } from './src/ingress-gate.ts'
import { PushSession } from './src/ws/push-session.ts'

/** A PEM file named by an option, or an error naming the option and the file. */
function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(`${option}: cannot read ${path}: ${(error as Error).message}`, { cause: error })
  }
}

export default definePlugin({
  name: 'pubsub',
  version: '0.1.0',
  description: 'A broker with topics, partitions, consumer groups, offsets, pull and push subscriptions; the built-in queue backend',
  provides: ['queue'],
  config: {
    /** memory: records live in the process (kept across reloads); file: segment files under the data folder. */
    storage: option.enum(['memory', 'file'], 'memory'),
    /** File storage: always (acknowledged after fdatasync), everysec (synced once a second), no (the OS decides). */
    fsync: option.enum(FSYNC_POLICIES, 'everysec'),
    /** File storage: a partition's segment file is rolled past this many bytes. */
    segmentBytes: option.int(64 * 1024 * 1024, { min: 4096, max: 2 ** 31 - 1 }),
    /** File storage: bytes of each partition's newest records kept in memory beside the files (older ones are read from them). */
    fileCacheBytes: option.int(DEFAULT_CACHE_BYTES, { min: 0 }),
    defaultPartitions: option.int(1, { min: 1, max: 1024 }),
    autoCreateTopics: true,
    maxRecordBytes: option.int(1_048_576, { min: 64 }),
    maxBatchBytes: option.int(16_777_216, { min: 64 }),
    /** Bytes all partitions may hold together; producers beyond it get the retriable BROKER_FULL. */
    maxTotalBytes: option.int(268_435_456, { min: 1024 }),
    /** How keyless records are spread: sticky (one partition per batch, KIP-480) or round-robin. */
    keyless: option.enum(KEYLESS_STRATEGIES, 'sticky'),
    /** Partitions of a queue's topic when the queue backend creates it (1 keeps a queue in FIFO order for first deliveries). */
    queuePartitions: option.int(1, { min: 1, max: 1024 }),
    /** The queue backend's default prefetch and first retry delay (doubling after). */
    queuePrefetch: option.int(10, { min: 1, max: 65_535 }),
    queueRetryDelayMs: option.duration(1000, { max: 3_600_000 }),
    /** Largest HTTP produce body, in bytes (JSON and base64 make it larger than the batch it carries). */
    httpMaxBodyBytes: option.int(25_165_824, { min: 1024 }),
    /** HTTP consumer instances that may exist at once. */
    httpMaxConsumers: option.int(1000, { min: 1 }),
    /** An HTTP consumer instance's session timeout unless its creation gives session.timeout.ms. */
    httpConsumerTimeoutMs: option.duration(60_000, { min: 100, max: 3_600_000 }),
    /** grpc://host:port (or grpcs:// for its GRPCS_PORT) of a broker in another kernel: the queue backend uses it and this kernel runs no broker of its own. */
    url: '',
    /** With a grpcs:// url: a PEM file with the CA that signed that kernel's certificate (empty: the system's roots). */
    ca: '',
    /**
     * A bearer token every transport then requires (gRPC `authorization` metadata, HTTP
     * `Authorization: Bearer`, WebSocket the same header or `?token=`); with `url`, the token sent
     * to that broker. Empty: no token (the kernel listens on loopback unless HOST says otherwise).
     */
    token: '',
  },
  async setup(ctx) {
    const { config } = ctx
    const queueOptions = {
      log: ctx.log,
      prefetch: config.queuePrefetch,
      retryDelayMs: config.queueRetryDelayMs,
      partitions: config.queuePartitions,
      sessionTimeoutMs: 30_000,
    }
    if (config.url) {
      // Several kernels share one broker: this one only reaches it.
      const remote = await ctx.keep(
        'remote',
        () =>
          new RemotePushBroker(config.url, {
            protoPath: join(ctx.dir, 'proto', 'pubsub.proto'),
            ...(config.token ? { token: config.token } : {}),
            ...(config.ca ? { tls: { ca: readPem(config.ca, 'PUBSUB_CA') } } : {}),
          }),
        (r) => r.close(),
        { phase: Phase.Egress + 5 },
      )
      ctx.queue.provideBackend(new PubsubQueueBackend(remote, queueOptions))
      ctx.log.info(`queue backend on the broker at ${remote.where}`)
      return
    }
    // One broker for every generation: a reload keeps every log, offset and group. It closes
    // at Egress, after the port has closed the queue backend (which the port closes at Egress
    // too, having cancelled the consumers at Ingress).
    const broker = await ctx.keep(
      'broker',
      () =>
        new Broker({
          defaultPartitions: config.defaultPartitions,
          autoCreateTopics: config.autoCreateTopics,
          maxRecordBytes: config.maxRecordBytes,
          maxBatchBytes: config.maxBatchBytes,
          maxTotalBytes: config.maxTotalBytes,
          keyless: config.keyless,
          storage:
            config.storage === 'file'
              ? new FileStorage({ dir: ctx.kernel.dataDir, fsync: config.fsync, segmentBytes: config.segmentBytes, cacheBytes: config.fileCacheBytes })
              : new MemoryStorage(),
        }),
      (b) => b.close(),
      { phase: Phase.Egress + 5 },
    )

    ctx.queue.provideBackend(new PubsubQueueBackend(new LocalPushBroker(broker), queueOptions))

    // This generation's transports: closed at Ingress (of a stop or of a reload), the kept broker stays.
    const gate = new IngressGate()
    ctx.onStop('ingress', () => gate.close(), { phase: Phase.Ingress })
    registerGrpc(ctx, broker, gate, config.token)

    // HTTP consumer instances outlive a reload, as the group members they are.
    const consumers = await ctx.keep(
      'http consumers',
      () => new ConsumerInstances(broker, config.httpMaxConsumers),
      (c) => c.close(),
      { phase: Phase.Work },
    )
    const http = pubsubHttp(broker, {
      consumers,
      readJson: (c, options) => ctx.http.readJson(c, options),
      base: `/${ctx.name}`,
      gate,
      maxBodyBytes: config.httpMaxBodyBytes,
      consumerTimeoutMs: config.httpConsumerTimeoutMs,
      signal: ctx.signal,
    })
    if (config.token) {
      const guarded = new Hono()
      guarded.use('*', requireBearer(config.token))
      guarded.route('/', http)
      ctx.http.route(guarded)
    } else ctx.http.route(http)

    ctx.ws.route('/ws', (socket, request) => {
      // A browser cannot set headers on a WebSocket: it may send the token as ?token= instead.
      if (config.token) {
        const query = new URL(request.url ?? '/', 'http://x').searchParams.get('token')
        const authorization = request.headers.authorization ?? (query ? `Bearer ${query}` : undefined)
        const check = checkBearer(config.token, authorization)
        if (check !== 'ok') return socket.close(1008, check === 'missing' ? 'missing token: send Authorization: Bearer or ?token=' : 'wrong token')
      }
      const session = new PushSession({ broker, gate, send: (text) => ctx.ws.send(socket, text), clientId: `ws:${request.socket.remoteAddress ?? ''}` })
      socket.on('message', (data, isBinary) => session.handle(data as Buffer, isBinary))
      socket.on('close', () => session.end())
      socket.on('error', () => session.end())
    })

    const saturated = ctx.metrics.gauge('push_saturated_members', 'Push members at their maxAckPending now')
    const bytes = ctx.metrics.gauge('bytes', 'Bytes held by all partitions')
    const httpConsumers = ctx.metrics.gauge('http_consumers', 'HTTP consumer instances that exist now')
    const timer = setInterval(() => {
      let n = 0
      for (const id of broker.groups()) {
        try {
          n += broker.group(id).saturated()
        } catch {
          // A group only restored from storage has no members yet.
        }
      }
      saturated.set(n)
      bytes.set(broker.bytes)
      httpConsumers.set(consumers.size)
    }, 1000)
    timer.unref()
    ctx.onStop('metrics', () => clearInterval(timer), { phase: Phase.Ingress })
    ctx.provide(broker)
  },
})
