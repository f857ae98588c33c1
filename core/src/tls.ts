// In dev the kernel serves HTTPS with a local CA and a localhost certificate it signs,
// made on first start and kept under .armature/tls (trust ca.pem to call it without -k).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { generate } from 'selfsigned'

export interface DevCertificate {
  ca: string
  cert: string
  key: string
  dir: string
}

export async function devCertificate(dir: string, log: Logger): Promise<DevCertificate> {
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  if (existsSync(files.ca) && existsSync(files.cert) && existsSync(files.key)) {
    return { ca: readFileSync(files.ca, 'utf8'), cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8'), dir }
  }
  const notAfterDate = new Date(Date.now() + 825 * 24 * 3600 * 1000)
  const ca = await generate([{ name: 'commonName', value: 'Armature dev CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  })
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  })
  mkdirSync(dir, { recursive: true })
  writeFileSync(files.ca, ca.cert)
  writeFileSync(files.cert, leaf.cert)
  writeFileSync(files.key, leaf.private, { mode: 0o600 })
  log.info(`created a dev certificate for localhost in ${dir} (trust ${files.ca})`)
  return { ca: ca.cert, cert: leaf.cert, key: leaf.private, dir }
}

/** The certificate the kernel serves: TLS_CERT/TLS_KEY, else in dev a local one (and its CA), else none. */
export async function kernelCertificate(
  config: { tlsCert: string | undefined; tlsKey: string | undefined; dev: boolean },
  cwd: string,
  log: Logger,
): Promise<{ cert: Buffer; key: Buffer; ca?: string } | undefined> {
  if (config.tlsCert && config.tlsKey) return { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
  if (!config.dev) return undefined
  const pair = await devCertificate(join(cwd, '.armature/tls'), log)
  return { cert: Buffer.from(pair.cert), key: Buffer.from(pair.key), ca: pair.ca }
}
