// The echo plugin's domain, usable without the kernel.
export { echo, pause, overLimit, EchoInputError, MAX_MESSAGE_LENGTH } from './echo.ts'
