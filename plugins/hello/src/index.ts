// The hello plugin's domain, usable without the kernel.
export { greeting } from './greeting.ts'
