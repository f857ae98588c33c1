// One live AMQP connection and the channels kept on it, replaced wholesale on reconnect.
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib'

export interface Session {
  readonly connection: ChannelModel
  closed: boolean
  publisher?: Promise<ConfirmChannel>
  topology?: Promise<Channel>
  /** Queues asserted on this connection (a pending or settled declaration). */
  readonly declared: Map<string, Promise<void>>
}

export function newSession(connection: ChannelModel): Session {
  return { connection, closed: false, declared: new Map() }
}

/** The confirm channel for publishing, opened on first use and again after it closes. */
export function publisherChannel(session: Session): Promise<ConfirmChannel> {
  session.publisher ??= keptChannel(session.connection.createConfirmChannel(), (opened) => {
    if (session.publisher === opened) session.publisher = undefined
  })
  return session.publisher
}

/** Declarations run on their own channel: a refused one closes that channel, not the publisher's. */
export function topologyChannel(session: Session): Promise<Channel> {
  session.topology ??= keptChannel(session.connection.createChannel(), (opened) => {
    if (session.topology === opened) session.topology = undefined
  })
  return session.topology
}

/**
 * A channel a session keeps for reuse: `forget` is told when it closes or fails to open, so
 * the next use opens a new one. Channel errors also arrive as a close.
 */
function keptChannel<C extends Channel>(opening: Promise<C>, forget: (opened: Promise<C>) => void): Promise<C> {
  const opened: Promise<C> = opening.then((channel) => {
    channel.on('error', () => {})
    channel.on('close', () => forget(opened))
    return channel
  })
  opened.catch(() => forget(opened))
  return opened
}
