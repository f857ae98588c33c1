// Attribute names of the OpenTelemetry semantic conventions that the semantic-conventions
// package keeps in its unstable (incubating) entry point. They are copied here, as that
// package advises, so a minor release of it cannot rename them under the kernel.

/** The RPC system before `rpc.system.name`; most trace backends still group gRPC spans by it. */
export const ATTR_RPC_SYSTEM = 'rpc.system'
export const ATTR_RPC_SERVICE = 'rpc.service'
/** The numeric gRPC status, beside the stable `rpc.status_code` name. */
export const ATTR_RPC_GRPC_STATUS_CODE = 'rpc.grpc.status_code'

export const ATTR_MESSAGING_SYSTEM = 'messaging.system'
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name'
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type'
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name'
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id'
export const ATTR_MESSAGING_CONVERSATION_ID = 'messaging.message.conversation_id'
