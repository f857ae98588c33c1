// Every failure the proxy reports to a caller, each with the HTTP status it answers.

/** The base of the proxy's own errors; `status` is what the admin API answers. */
export class ProxyError extends Error {
  readonly status: number
  constructor(message: string, status: number) {
    super(message)
    this.name = new.target.name
    this.status = status
  }
}

/** A request body field is missing or wrong; `field` is its path, like `routes[0].targets[1]`. */
export class InvalidFieldError extends ProxyError {
  readonly field: string
  constructor(field: string, message: string) {
    super(`${field}: ${message}`, 400)
    this.field = field
  }
}

/** A target host outside the allow-list: the API must not become an open proxy. */
export class TargetNotAllowedError extends InvalidFieldError {
  constructor(field: string, target: string, allowed: readonly string[]) {
    super(field, `target ${JSON.stringify(target)} is not allowed; targets must be on ${allowed.join(', ')} (option allowedTargets)`)
  }
}

export class PortNotAllowedError extends InvalidFieldError {
  constructor(field: string, port: number, range: { min: number; max: number }) {
    super(field, `port ${port} is outside the allowed range ${range.min}-${range.max} (option portRange); 0 picks any free port`)
  }
}

export class ServerNotFoundError extends ProxyError {
  constructor(name: string) {
    super(`no proxy server named ${JSON.stringify(name)}`, 404)
  }
}

export class ServerExistsError extends ProxyError {
  constructor(name: string, state: string) {
    super(`a proxy server named ${JSON.stringify(name)} already exists (${state}); delete it first or pick another name`, 409)
  }
}

export class AddressInUseError extends ProxyError {
  constructor(host: string, port: number) {
    super(`cannot listen on ${host}:${port}: the address is in use; pick another port or 0 for any free port`, 409)
  }
}

export class TooManyServersError extends ProxyError {
  constructor(limit: number) {
    super(`at most ${limit} proxy servers may be registered (option maxServers); delete one first`, 409)
  }
}

/** The plugin is stopping: no new servers. */
export class ProxyClosingError extends ProxyError {
  constructor() {
    super('the proxy is shutting down; no new servers are accepted', 503)
  }
}

/** A stored servers file that cannot be read as a list of servers. */
export class ServerFileError extends ProxyError {
  constructor(path: string, reason: string) {
    super(`cannot read proxy servers from ${path}: ${reason}`, 500)
  }
}

/** A plugin option with a value outside what it accepts (thrown at setup). */
export class ProxyOptionError extends Error {
  constructor(option: string, value: unknown, valid: string) {
    super(`proxy option ${option}=${JSON.stringify(value)} is invalid: ${valid}`)
    this.name = 'ProxyOptionError'
  }
}
