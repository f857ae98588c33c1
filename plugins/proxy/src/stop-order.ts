// Where each proxy server's stop entry sits in the kernel's shutdown registry. A stop entry's
// phase is fixed when it is registered, so it is computed from what is known then: the
// server's priority, or its place in the creation sequence.
//
// The band is 10.001-10.999, after the kernel's own `http` (10): the admin API closes first,
// so the set of servers is settled, and each server then gets a phase of its own, so they stop
// one after another.
//   10.001-10.099  servers with a priority (1-99), lowest first; equal priorities stop together
//   10.100-10.998  the others, in creation order or its reverse
//   10.999         anything still open (a server started while the stop began)

export type StopOrder = 'creation' | 'reverse'
export const STOP_ORDERS = ['creation', 'reverse'] as const satisfies readonly StopOrder[]

const FIRST_UNPRIORITISED = 100
const LAST_UNPRIORITISED = 998
export const SWEEP_PHASE = phaseOf(999)

/** `sequence` counts servers started by this process, from 1. */
export function stopPhase(sequence: number, priority: number | undefined, order: StopOrder): number {
  if (priority !== undefined) return phaseOf(priority)
  const span = LAST_UNPRIORITISED - FIRST_UNPRIORITISED
  // Past the band's length servers share its last slot and stop together.
  const offset = Math.min(sequence, span)
  return phaseOf(order === 'creation' ? FIRST_UNPRIORITISED + offset : LAST_UNPRIORITISED - offset)
}

/** Exact decimal phases (10.001, not 10.000999...) keep the shutdown log readable. */
function phaseOf(slot: number): number {
  return (10_000 + slot) / 1000
}
