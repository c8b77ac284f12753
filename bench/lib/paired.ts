import { cpuSeconds } from './proc';
import { median, round } from './stats';
import { runWrk, type WrkLoad, type WrkRequest } from './wrk';

/** One measured run of one side. */
export interface Measure {
  /** Requests (or jobs) per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the server process(es) per request or job, in milliseconds. */
  cpuMs: number;
  count: number;
  errors: number;
}

export interface Side {
  label: string;
  /** One measured run; a warm-up run may be shorter and is not counted. */
  run(warmup?: boolean): Promise<Measure>;
}

export interface SideSummary {
  label: string;
  rate: number;
  p50_ms: number;
  p99_ms: number;
  cpu_ms_per_op: number;
  errors: number;
}

export interface PairedResult {
  sides: SideSummary[];
  /** Per round, each side's measure, in the order of `sides`. */
  rounds: Measure[][];
  /** Median over rounds of rate(sides[0]) / rate(sides[i]), for i >= 1. */
  ratios: number[];
  /** Per round, rate(sides[0]) / rate(sides[i]). */
  roundRatios: number[][];
}

/** A pause before each run, so that what the previous run left (sockets closing, GC) ends first. */
const SETTLE_MS = 500;

/**
 * Runs the sides in turn, `rounds` times after one warm-up pass, rotating which side goes first so
 * that drift of the machine hits every side alike. sides[0] is the product, the others baselines.
 */
export async function runPaired(sides: Side[], rounds: number, log: (line: string) => void): Promise<PairedResult> {
  for (const side of sides) await side.run(true); // warm-up: JIT, connection pools, caches
  const measures: Measure[][] = [];
  for (let r = 0; r < rounds; r += 1) {
    const row: Measure[] = new Array<Measure>(sides.length);
    for (let k = 0; k < sides.length; k += 1) {
      const i = (k + r) % sides.length;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      row[i] = await sides[i]!.run();
    }
    measures.push(row);
    log(`  round ${r + 1}: ${sides.map((s, i) => `${s.label} ${round(row[i]!.rate, 1)}/s`).join(', ')}`);
  }
  const roundRatios = measures.map((row) => row.slice(1).map((b) => row[0]!.rate / b.rate));
  return {
    sides: sides.map((s, i) => summarize(s.label, measures.map((row) => row[i]!))),
    rounds: measures,
    ratios: sides.slice(1).map((_, j) => median(roundRatios.map((rr) => rr[j]!))),
    roundRatios,
  };
}

function summarize(label: string, runs: Measure[]): SideSummary {
  return {
    label,
    rate: round(median(runs.map((m) => m.rate)), 1),
    p50_ms: round(median(runs.map((m) => m.p50Ms)), 2),
    p99_ms: round(median(runs.map((m) => m.p99Ms)), 2),
    cpu_ms_per_op: round(median(runs.map((m) => m.cpuMs)), 3),
    errors: runs.reduce((n, m) => n + m.errors, 0),
  };
}

/** A side measured with wrk against a server process whose CPU time is read from /proc. */
export function httpSide(label: string, serverPid: () => number, request: WrkRequest, load: WrkLoad & { warmupSeconds: number }, after?: () => Promise<void>): Side {
  return {
    label,
    async run(warmup) {
      const pid = serverPid();
      const cpuBefore = cpuSeconds(pid);
      const r = await runWrk(request, warmup ? { ...load, seconds: load.warmupSeconds } : load);
      const cpu = cpuSeconds(pid) - cpuBefore;
      await after?.(); // clean-up, not measured
      return { rate: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuMs: (cpu * 1000) / Math.max(1, r.requests), count: r.requests, errors: r.errors };
    },
  };
}
