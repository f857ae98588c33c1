// Responses built with plain header objects. Under @hono/node-server such a response is
// written straight to the socket; `c.header()` and `c.json()` would first build a Fetch
// Headers object that the server then converts back, per request.
const JSON_TYPE = 'application/json'

export function jsonResponse(body: unknown, status: number, etag: string, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': JSON_TYPE, etag, ...headers } })
}

/** A body that is already JSON text. */
export function jsonTextResponse(text: string, status: number, etag: string): Response {
  return new Response(text, { status, headers: { 'content-type': JSON_TYPE, etag } })
}

export function emptyResponse(status: number, etag: string): Response {
  return new Response(null, { status, headers: { etag } })
}

/**
 * What a GET of one document version answers: its ETag, its JSON body and the response
 * init, built once. A stored document never changes (every write stores a new object),
 * so the answer of a version stays right for as long as that version is current.
 */
export interface DocumentAnswer {
  readonly etag: string
  readonly body: string
  /** Shared by every response of this version; Content-Length is set so no server adds it. */
  readonly init: { readonly status: 200; readonly headers: Readonly<Record<string, string>> }
}

export function documentAnswer(etag: string, view: unknown): DocumentAnswer {
  const body = JSON.stringify(view)
  return { etag, body, init: { status: 200, headers: { 'content-type': JSON_TYPE, etag, 'content-length': String(Buffer.byteLength(body)) } } }
}

/** A 200 with an answer's body; the answer's headers object is shared, never copied. */
export function answerResponse(answer: DocumentAnswer): Response {
  return new Response(answer.body, answer.init as ResponseInit)
}
