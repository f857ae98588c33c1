// The upstream every contender forwards to: GET /hello with a short text, on node:http.
import { createServer } from 'node:http'

createServer((req, res) => {
  if (req.url === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' })
    res.end('hello from the upstream\n')
  } else {
    res.writeHead(404).end()
  }
}).listen(Number(process.env.PORT), '127.0.0.1')
