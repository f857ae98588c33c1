// The pubsub client: usable from any Node program.
export { PubsubConnection, ConnectionError, parseBrokerUrl } from './connection.ts'
export { Producer, type ProducerOptions } from './producer.ts'
export { RemotePushBroker, subscribe } from './push-consumer.ts'
