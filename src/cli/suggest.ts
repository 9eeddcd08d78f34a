// "Did you mean": the nearest known names to a misspelt one, by edit distance, plus names that
// contain it (so `explain OWNER` lists the *_OWNER ioctls).

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

export function suggest(name: string, known: Iterable<string>, max = 6): string[] {
  const q = name.toUpperCase();
  const limit = Math.max(2, Math.floor(q.length / 4));
  const scored: [number, string][] = [];
  for (const k of new Set(known)) {
    const u = k.toUpperCase();
    const d = distance(q, u);
    if (d <= limit) scored.push([d, k]);
    else if (q.length >= 3 && u.includes(q)) scored.push([limit + 1, k]);
  }
  scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
  return scored.slice(0, max).map(([, k]) => k);
}
