import { residentBytes } from '../lib/proc';
import { judged, type CaseResult } from '../lib/results';

const MB = 1024 * 1024;
const LIMIT_MB = 250;

interface Watched {
  pid: number;
  hwm: number;
  startMb: number;
  /** Highest sample per phase of the run. */
  phases: Map<string, number>;
}

/** Samples the resident size of the product's processes every 250 ms while the cases run. */
export class MemorySampler {
  private readonly watched = new Map<string, Watched>();
  private readonly timer = setInterval(() => this.sample(), 250);
  private phase = 'start';

  watch(name: string, pid: number): void {
    this.watched.set(name, { pid, hwm: 0, startMb: residentBytes(pid).rss / MB, phases: new Map() });
    this.sample();
  }

  /** Names what runs from now on (the case), so that each peak can be told apart. */
  enter(phase: string): void {
    this.sample();
    this.phase = phase;
  }

  private sample(): void {
    for (const entry of this.watched.values()) {
      try {
        const { rss, peak } = residentBytes(entry.pid);
        entry.phases.set(this.phase, Math.max(entry.phases.get(this.phase) ?? 0, rss / MB));
        entry.hwm = Math.max(entry.hwm, peak);
      } catch {
        // the process has exited: keep what was seen
      }
    }
  }

  /** Per process: the highest resident size (the kernel's high-water mark, VmHWM), at start and per phase. */
  result(): Array<{ name: string; peakMb: number; startMb: number; phases: Array<[string, number]> }> {
    this.sample();
    return [...this.watched].map(([name, e]) => ({ name, peakMb: e.hwm / MB, startMb: e.startMb, phases: [...e.phases] }));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** `notes`: more about a process, by name (the web process reports its live heap). */
export function memoryResults(sampler: MemorySampler, notes: Record<string, string> = {}): CaseResult[] {
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
      note: `peak resident size (VmHWM) over the run; ${Math.round(m.startMb)} MB when started; highest sample per phase: ${m.phases.map(([phase, mb]) => `${phase} ${Math.round(mb)} MB`).join(', ')}${notes[m.name] ? `; ${notes[m.name]}` : ''}`,
    }),
  );
}
