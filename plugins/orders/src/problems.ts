// What is wrong with a message, one entry per failing field, as the dead-letter queue carries it.

export interface Problem {
  /** Dotted path of the field (`payment.amount`, `items.0.price`); empty for the message as a whole. */
  path: string
  message: string
}

/** Problems as one line: `payment.amount: must be ...; items.0.sale: ...`. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')
}
