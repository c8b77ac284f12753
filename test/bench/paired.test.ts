import { expect } from 'chai';
import { runPaired, type Measure, type Side } from '../../bench/lib/paired';
import { judged } from '../../bench/lib/results';

/** A side whose runs answer the given rates in turn, recording when it ran. */
function scripted(label: string, rates: number[], calls: string[]): Side {
  let measured = 0;
  return {
    label,
    async run(warmup) {
      calls.push(warmup ? `${label}:warmup` : label);
      if (warmup) return { rate: 1, p50Ms: 1, p99Ms: 1, cpuMs: 1, count: 1, errors: 0 };
      const rate = rates[measured]!;
      measured += 1;
      return { rate, p50Ms: 1000 / rate, p99Ms: 2000 / rate, cpuMs: 100 / rate, count: rate * 5, errors: label === 'baseline' && measured === 2 ? 3 : 0 } satisfies Measure;
    },
  };
}

describe('bench: paired rounds (issue 7, point 1)', function () {
  this.timeout(20_000);

  it('warms every side up first, then alternates the sides round by round, rotating which goes first', async () => {
    const calls: string[] = [];
    await runPaired([scripted('product', [10, 10, 10], calls), scripted('baseline', [20, 20, 20], calls), scripted('other', [40, 40, 40], calls)], 3, () => undefined);
    expect(calls).to.deep.equal([
      'product:warmup', 'baseline:warmup', 'other:warmup',
      'product', 'baseline', 'other',
      'baseline', 'other', 'product',
      'other', 'product', 'baseline',
    ]);
  });

  it('reports the median of the per-round ratios (not the ratio of medians), and each side’s medians', async () => {
    const calls: string[] = [];
    // Round ratios: 10/40 = 0.25, 30/20 = 1.5, 20/50 = 0.4 → median 0.4; the ratio of the medians would be 20/40 = 0.5.
    const result = await runPaired([scripted('product', [10, 30, 20], calls), scripted('baseline', [40, 20, 50], calls)], 3, () => undefined);
    expect(result.roundRatios.map(([r]) => r)).to.deep.equal([0.25, 1.5, 0.4]);
    expect(result.ratios).to.deep.equal([0.4]);
    expect(result.sides[0]).to.deep.equal({ label: 'product', rate: 20, p50_ms: 50, p99_ms: 100, cpu_ms_per_op: 5, errors: 0 });
    expect(result.sides[1]).to.include({ label: 'baseline', rate: 40, p50_ms: 25, cpu_ms_per_op: 2.5, errors: 3 });
  });

  it('judges a case against its target, from above or below, on the ratio or on the value', () => {
    const base = { name: 'case', value: 100, baseline: 400, unit: 'req/s' } as const;
    expect(judged({ ...base, ratio: 0.25, target: 0.25, target_applies_to: 'ratio', better: 'higher' }).pass).to.equal(true);
    expect(judged({ ...base, ratio: 0.2499, target: 0.25, target_applies_to: 'ratio', better: 'higher' }).pass).to.equal(false);
    expect(judged({ ...base, ratio: 1.6, target: 1.5, target_applies_to: 'ratio', better: 'lower' }).pass).to.equal(false);
    expect(judged({ ...base, baseline: null, ratio: null, target: 250, target_applies_to: 'value', better: 'lower' }).pass).to.equal(true);
    expect(judged({ ...base, ratio: 0.3, target: null, target_applies_to: 'ratio', better: 'higher' }).pass).to.equal(null);
    expect(judged({ ...base, value: 1.23456, ratio: 0.123456, target: 0.1, target_applies_to: 'ratio', better: 'higher' })).to.include({ value: 1.23, ratio: 0.123, pass: true });
  });
});
