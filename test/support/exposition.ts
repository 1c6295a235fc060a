/** Samples of a text exposition: `name{labels}` → value, skipping comments. */
export function samples(body: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    result.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return result;
}

/** The samples whose series name (before `{`) is `name`. */
export function family(body: string, name: string): [string, number][] {
  return [...samples(body)].filter(([series]) => series === name || series.startsWith(`${name}{`));
}
