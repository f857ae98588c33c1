// The public face of @armature/testing: boot a kernel for a test, wait with a deadline,
// cut a connection on purpose, check a queue backend against the port, run a project's test files.
export { startTestKernel, spawnKernel, waitFor, ARMATURE_BIN } from './kernel.ts'
export type { TestKernel, TestKernelOptions, ChildKernel } from './kernel.ts'
export { startTcpProxy } from './tcp-proxy.ts'
export type { TcpProxy, TcpProxyOptions } from './tcp-proxy.ts'
export { runTests, testFiles, testPackages } from './test-runner.ts'
export type { TestRunOptions, TestRunResult } from './test-runner.ts'
export { devCertificate, type DevCertificate } from '@armature/core'
export { queuePortSuite } from './queue-suite.ts'
export type { MakeBackendKernel, QueuePortSuiteOptions } from './queue-suite.ts'
