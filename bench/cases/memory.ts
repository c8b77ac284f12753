import { residentBytes } from '../lib/proc';
import { judged, type CaseResult } from '../lib/results';

const MB = 1024 * 1024;
const LIMIT_MB = 250;

/** Samples the resident size of the product's processes every 250 ms while the cases run. */
export class MemorySampler {
  private readonly peaks = new Map<string, { pid: number; sampledPeak: number; hwm: number }>();
  private readonly timer = setInterval(() => this.sample(), 250);

  watch(name: string, pid: number): void {
    this.peaks.set(name, { pid, sampledPeak: 0, hwm: 0 });
    this.sample();
  }

  private sample(): void {
    for (const entry of this.peaks.values()) {
      try {
        const { rss, peak } = residentBytes(entry.pid);
        entry.sampledPeak = Math.max(entry.sampledPeak, rss);
        entry.hwm = Math.max(entry.hwm, peak);
      } catch {
        // the process has exited: keep what was seen
      }
    }
  }

  /** Per process: the highest resident size seen (the kernel's high-water mark, VmHWM). */
  result(): Array<{ name: string; peakMb: number; sampledPeakMb: number }> {
    this.sample();
    return [...this.peaks].map(([name, e]) => ({ name, peakMb: e.hwm / MB, sampledPeakMb: e.sampledPeak / MB }));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export function memoryResults(sampler: MemorySampler): CaseResult[] {
  return sampler.result().map((m) =>
    judged({
      name: `memory: resident size of ${m.name}`,
      value: m.peakMb,
      baseline: null,
      ratio: null,
      target: LIMIT_MB,
      target_applies_to: 'value',
      better: 'lower',
      unit: 'MB',
      note: `peak resident size (VmHWM) over the whole run; highest 250 ms sample ${Math.round(m.sampledPeakMb)} MB`,
    }),
  );
}
