import { createServer } from 'node:http'

createServer((req, res) => {
  if (req.url === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' })
    res.end('hello from generation 1\n')
  } else {
    res.writeHead(404).end()
  }
}).listen(Number(process.env.PORT), '127.0.0.1')
