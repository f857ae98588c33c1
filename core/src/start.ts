// The one call that runs a kernel: config, boot, listen; a failure on the way stops what started.
import { loadKernelConfig } from './config.ts'
import { Kernel, type KernelOptions } from './kernel.ts'

/** Loads the config, boots the plugins and opens the listeners. Config errors throw ConfigError. */
export async function startKernel(options: KernelOptions = {}): Promise<Kernel> {
  const cwd = options.cwd ?? process.cwd()
  const env = options.env ?? process.env
  const config = await loadKernelConfig({
    cwd,
    env,
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.overrides ? { overrides: options.overrides } : {}),
  })
  const kernel = new Kernel(config, env, { ...options, cwd })
  try {
    await kernel.boot()
    await kernel.listen()
  } catch (error) {
    await kernel.stop()
    throw error
  }
  return kernel
}
