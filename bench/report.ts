import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from './context';
import { OUTPUT_DIR, REPO_ROOT } from './lib/children';
import type { MachineDescription } from './lib/proc';
import type { CaseResult } from './lib/results';

const START = '<!-- bench:table:start -->';
const END = '<!-- bench:table:end -->';

function num(v: number | null, unit = ''): string {
  if (v === null || !Number.isFinite(v)) return '–';
  const text = Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
  return unit ? `${text} ${unit}` : text;
}

function target(r: CaseResult): string {
  if (r.target === null) return 'reported';
  const op = r.better === 'higher' ? '≥' : '≤';
  return r.target_applies_to === 'ratio' ? `${op} ${r.target}` : `${op} ${r.target} ${r.unit}`;
}

function sides(r: CaseResult, pick: (s: NonNullable<CaseResult['sides']>[number]) => string): string {
  return r.sides ? r.sides.map(pick).join(' / ') : '–';
}

export function markdownTable(machine: MachineDescription, settings: Settings, results: CaseResult[], minutes: number): string {
  const lines = [
    `Run of ${machine.date.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(minutes * 10) / 10} min: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.kernel};`,
    `Node.js ${machine.node}, ${machine.postgres}, ${machine.redis}, ${machine.wrk.split(' [')[0]}; load average at start ${machine.load_average_at_start.join(' ')}.`,
    `Product: ${machine.product}.`,
    `${settings.rounds} paired rounds of ${settings.seconds} s after a ${settings.warmupSeconds} s warm-up, ${settings.connections} connections; servers on CPU ${settings.serverCpus}, wrk on CPU ${settings.loadCpus}.`,
    '',
    '| case | product | baseline | ratio: median (rounds min–max) | target | pass | p50 / p99 ms (product / baseline) | server CPU ms per op (product / baseline) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const pass = r.pass === null ? '–' : r.pass ? 'yes' : '**no**';
    const latency = sides(r, (s) => `${num(s.p50_ms)} · ${num(s.p99_ms)}`);
    const cpu = sides(r, (s) => num(s.cpu_ms_per_op));
    const spread = r.round_ratios?.length ? ` (${Math.min(...r.round_ratios).toFixed(2)}–${Math.max(...r.round_ratios).toFixed(2)})` : '';
    lines.push(`| ${r.name} | ${num(r.value, r.unit)} | ${num(r.baseline, r.baseline === null ? '' : r.unit)} | ${r.ratio === null ? '–' : `${r.ratio}${spread}`} | ${target(r)} | ${pass} | ${latency} | ${cpu} |`);
  }
  const notes = results.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  return [...lines, '', ...notes].join('\n');
}

/** Where a run's results go: a full run's are kept in git, a partial run (--only) writes beside its logs. */
export function resultFiles(settings: Pick<Settings, 'only'>): { json: string; markdown: string } {
  const base = settings.only.length === 0 ? path.join(REPO_ROOT, 'bench/results') : path.join(OUTPUT_DIR, 'partial');
  return { json: `${base}.json`, markdown: `${base}.md` };
}

/**
 * Writes bench/results.json and bench/results.md, and the table into BENCHMARKS.md between its
 * markers; a partial run writes bench/results/partial.json and .md only, leaving the full run's.
 */
export function writeReport(input: { machine: MachineDescription; settings: Settings; results: CaseResult[]; minutes: number; log: (line: string) => void }): void {
  const { machine, settings, results, minutes, log } = input;
  const files = resultFiles(settings);
  mkdirSync(path.dirname(files.json), { recursive: true });
  writeFileSync(files.json, `${JSON.stringify({ machine, settings, minutes: Math.round(minutes * 10) / 10, results }, null, 2)}\n`);
  const table = markdownTable(machine, settings, results, minutes);
  writeFileSync(files.markdown, `# Latest bench run\n\n${table}\n`);
  const doc = path.join(REPO_ROOT, 'BENCHMARKS.md');
  if (settings.only.length === 0 && existsSync(doc)) {
    const text = readFileSync(doc, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a >= 0 && b > a) writeFileSync(doc, `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`);
  }
  log(`\n${table}\n\nwritten: ${path.relative(REPO_ROOT, files.json)}, ${path.relative(REPO_ROOT, files.markdown)}${settings.only.length ? '' : ', BENCHMARKS.md (table)'}`);
}
