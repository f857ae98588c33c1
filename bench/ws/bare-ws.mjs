// The competitor: node:http with a bare ws server (noServer, like the kernel) answering each
// text message on /echo/ws with the echo plugin's JSON, and GET /healthz for readiness.
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

const MAX_MESSAGE_LENGTH = 64 * 1024
let sequence = 0
const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })
const server = createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : ''))
server.on('upgrade', (request, socket, head) => {
  if (request.url?.split('?')[0] !== '/echo/ws') return socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  wss.handleUpgrade(request, socket, head, (ws) => {
    ws.on('message', (data, isBinary) => {
      const message = isBinary ? Buffer.from(data).toString('base64') : String(data)
      if (message.length > MAX_MESSAGE_LENGTH) return ws.send(JSON.stringify({ error: 'message too long' }))
      ws.send(JSON.stringify({ message, generation: 1, sequence: ++sequence }))
    })
  })
})
server.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate()
  server.close(() => process.exit(0))
})
