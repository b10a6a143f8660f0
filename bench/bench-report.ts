/** Nearest-rank percentile of an unsorted sample (p in [0, 100]). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export const median = (values: readonly number[]) => percentile(values, 50);

export interface BenchLine {
  name: string;
  value: number;
  unit: string;
  /** The physical limit the figure is compared to; null when there is none. */
  bound: number | null;
  /** How many times the bound the figure is (>1 is worse for times, see `higherIsBetter`). */
  higherIsBetter?: boolean;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** `bench <name>: <value> <unit> (bound <value>, ratio <x>)`; the ratio reads "times worse than the bound" either way. */
export function formatLine(line: BenchLine): string {
  if (line.bound === null) return `bench ${line.name}: ${fmt(line.value)} ${line.unit} (bound n/a, ratio n/a)`;
  const ratio = line.higherIsBetter ? line.bound / line.value : line.value / line.bound;
  return `bench ${line.name}: ${fmt(line.value)} ${line.unit} (bound ${fmt(line.bound)}, ratio ${ratio.toFixed(2)})`;
}

export function emit(line: BenchLine): void {
  process.stdout.write(`${formatLine(line)}\n`);
}

export function note(text: string): void {
  process.stdout.write(`# ${text}\n`);
}
