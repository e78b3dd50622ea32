/** `1 sync`, `2 syncs`, `1,000 rows`: a count and its noun, in the number's own plural. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : nouns}`;
}
