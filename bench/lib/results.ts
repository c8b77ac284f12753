import type { SideSummary } from './paired';
import { round } from './stats';

/** One line of bench/results.json. */
export interface CaseResult {
  name: string;
  /** The product's figure (throughput, latency, memory or quota units, see `unit`). */
  value: number;
  /** The baseline's figure measured in the same rounds; null when the target is absolute. */
  baseline: number | null;
  /** Median of the per-round ratios value/baseline; null when there is no baseline. */
  ratio: number | null;
  /** The bound, applied to `ratio` or to `value` (target_applies_to), from below or above (better). */
  target: number | null;
  target_applies_to: 'ratio' | 'value';
  better: 'higher' | 'lower';
  pass: boolean | null;
  unit: string;
  /** Each side's medians (throughput, p50/p99 latency, server CPU per operation) and the per-round ratios. */
  sides?: SideSummary[];
  round_ratios?: number[];
  note?: string;
}

export function judged(r: Omit<CaseResult, 'pass'>): CaseResult {
  const measured = r.target_applies_to === 'ratio' ? r.ratio : r.value;
  const pass = r.target === null || measured === null || !Number.isFinite(measured) ? null : r.better === 'higher' ? measured >= r.target : measured <= r.target;
  return { ...r, value: round(r.value, 2), baseline: r.baseline === null ? null : round(r.baseline, 2), ratio: r.ratio === null ? null : round(r.ratio, 3), pass };
}
