// The implementations under test, imported through the package's public entry point.
export { ArrayDeque, HashMap, PriorityQueue, TreeMap } from '../../plugins/collections/src/index.ts'
export { seededRandom as seededRandomForBench } from '../../plugins/collections/src/collections.ts'
