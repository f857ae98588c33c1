// Every refusal the broker can give, as one class with a stable code. Transports map the code
// to a gRPC status and an HTTP status (see codes below); `retriable` tells a client whether
// sending the same request again later can succeed.

export const ERROR_CODES = {
  UNKNOWN_TOPIC: { grpc: 5, http: 404, retriable: false },
  TOPIC_EXISTS: { grpc: 6, http: 409, retriable: false },
  INVALID_TOPIC: { grpc: 3, http: 422, retriable: false },
  INVALID_PARTITION: { grpc: 3, http: 422, retriable: false },
  OFFSET_OUT_OF_RANGE: { grpc: 11, http: 416, retriable: false },
  RECORD_TOO_LARGE: { grpc: 3, http: 413, retriable: false },
  BATCH_TOO_LARGE: { grpc: 3, http: 413, retriable: false },
  BROKER_FULL: { grpc: 8, http: 503, retriable: true },
  INVALID_ARGUMENT: { grpc: 3, http: 422, retriable: false },
  OUT_OF_ORDER_SEQUENCE: { grpc: 9, http: 409, retriable: false },
  DUPLICATE_SEQUENCE: { grpc: 6, http: 409, retriable: false },
  UNKNOWN_PRODUCER: { grpc: 9, http: 409, retriable: false },
  UNKNOWN_GROUP: { grpc: 5, http: 404, retriable: false },
  UNKNOWN_MEMBER: { grpc: 5, http: 404, retriable: false },
  ILLEGAL_GENERATION: { grpc: 9, http: 409, retriable: false },
  NOT_OWNER: { grpc: 9, http: 409, retriable: false },
  GROUP_MODE_MISMATCH: { grpc: 9, http: 409, retriable: false },
  MALFORMED: { grpc: 3, http: 400, retriable: false },
  STOPPING: { grpc: 14, http: 503, retriable: true },
  UNAUTHENTICATED: { grpc: 16, http: 401, retriable: false },
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export class PubsubError extends Error {
  override name = 'PubsubError'
  readonly retriable: boolean
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`)
    this.retriable = ERROR_CODES[code].retriable
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value)
}
