// The pubsub client: usable from any Node program.
export { PubsubConnection, ConnectionError, parseBrokerUrl, type BrokerAddress, type ConnectionOptions, type Pem, type TlsOptions } from './connection.ts'
export { Producer, type ProducerOptions } from './producer.ts'
export { RemotePushBroker, subscribe } from './push-consumer.ts'
export { Consumer } from './consumer.ts'
export {
  ConsumerError,
  type Batch,
  type ConsumerEvents,
  type ConsumerOptions,
  type EachBatchPayload,
  type EachMessagePayload,
  type PartitionPosition,
  type RunOptions,
} from './consumer-options.ts'
