/** The text GET /hello answers; the generation shows which loaded copy of the plugin served it. */
export function greeting(word: string, generation: number): string {
  return `${word} from generation ${generation}\n`
}
