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
