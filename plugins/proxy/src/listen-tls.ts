// TLS for a proxy server's listener: a certificate and key sent with the registration, or
// `true` for the certificate configured on the proxy itself. Both are checked before a
// server starts, so a bad pair is a 400 naming the field rather than a failed listener.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import { InvalidFieldError } from './errors.ts'

export interface PemPair {
  /** The certificate, optionally followed by its chain, in PEM. */
  cert: string
  /** Its private key, in PEM. */
  key: string
}

/** What `listen.tls` holds: a pair of its own, or `true` for the proxy's configured certificate. */
export type ListenTls = true | PemPair

/** Largest PEM text accepted for a certificate chain or a key. */
export const MAX_PEM_BYTES = 32 * 1024

export interface CertificateSummary {
  /** `inline`: sent with the registration; `configured`: the proxy's own (options tlsCert/tlsKey). */
  source: 'inline' | 'configured'
  subject: string
  issuer: string
  validFrom: string
  validTo: string
  fingerprint256: string
}

/**
 * Checks `listen.tls`. `configured` is the proxy's own pair, when one is set; `true` needs it.
 * Returns undefined for a plain HTTP listener.
 */
export function parseListenTls(value: unknown, configured: PemPair | undefined, field = 'listen.tls'): ListenTls | undefined {
  if (value === undefined || value === null || value === false) return undefined
  if (value === true) {
    if (!configured) {
      throw new InvalidFieldError(
        field,
        'true uses the proxy\'s own certificate, and none is configured (options tlsCert and tlsKey, or TLS_CERT and TLS_KEY); send { "cert": "<PEM>", "key": "<PEM>" } instead',
      )
    }
    return true
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidFieldError(field, 'must be true or { "cert": "<PEM>", "key": "<PEM>" }')
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (key !== 'cert' && key !== 'key') throw new InvalidFieldError(`${field}.${key}`, 'unknown field; expected cert and key')
  }
  const pair = { cert: pem(record.cert, `${field}.cert`, 'CERTIFICATE'), key: pem(record.key, `${field}.key`, 'PRIVATE KEY') }
  checkPair(pair, field)
  return pair
}

/** The pair a listener serves with. */
export function resolveListenTls(tls: ListenTls | undefined, configured: PemPair | undefined): PemPair | undefined {
  if (tls === undefined) return undefined
  if (tls === true) {
    if (!configured) throw new Error('listen.tls is true but the proxy has no configured certificate')
    return configured
  }
  return tls
}

/** The public facts of a listener's certificate; the key is never shown. */
export function summarise(tls: ListenTls, pair: PemPair): CertificateSummary {
  const certificate = new X509Certificate(pair.cert)
  return {
    source: tls === true ? 'configured' : 'inline',
    subject: certificate.subject.replace(/\n/g, ', '),
    issuer: certificate.issuer.replace(/\n/g, ', '),
    validFrom: new Date(certificate.validFrom).toISOString(),
    validTo: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
  }
}

/** Checks a configured pair at setup (a misconfiguration stops the plugin with the reason). */
export function checkPair(pair: PemPair, field: string): void {
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(pair.cert)
  } catch (error) {
    throw new InvalidFieldError(`${field}.cert`, `is not a readable PEM certificate (${(error as Error).message})`)
  }
  try {
    createPrivateKey(pair.key)
  } catch (error) {
    throw new InvalidFieldError(`${field}.key`, `is not a readable PEM private key (${(error as Error).message})`)
  }
  try {
    createSecureContext({ cert: pair.cert, key: pair.key })
  } catch (error) {
    throw new InvalidFieldError(field, `the key does not belong to the certificate (${(error as Error).message})`)
  }
  const validTo = Date.parse(certificate.validTo)
  if (Number.isFinite(validTo) && validTo <= Date.now()) {
    throw new InvalidFieldError(`${field}.cert`, `expired on ${new Date(validTo).toISOString()}`)
  }
}

function pem(value: unknown, field: string, label: string): string {
  if (typeof value !== 'string' || !value.includes('-----BEGIN ')) throw new InvalidFieldError(field, `must be a PEM string starting with -----BEGIN ${label}-----`)
  if (Buffer.byteLength(value) > MAX_PEM_BYTES) throw new InvalidFieldError(field, `is larger than ${MAX_PEM_BYTES} bytes`)
  return value
}
