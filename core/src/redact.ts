// A URL as logs and errors may show it: the password replaced, so a connection string read
// from the environment never reaches a log file whole.

/** The URL without its password; `fallback` when it does not parse. */
export function redactUrl(url: string, fallback = '<invalid url>'): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return fallback
  }
}
