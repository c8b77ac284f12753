import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { markdownTable, resultFiles } from '../../bench/report';
import { judged, type CaseResult } from '../../bench/lib/results';
import type { MachineDescription } from '../../bench/lib/proc';
import type { Settings } from '../../bench/context';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ResultsFile {
  machine: MachineDescription;
  settings: Settings;
  minutes: number;
  results: CaseResult[];
}

/** The cases issue 7 asks for, with their targets: [name, target, applies to, better]. */
const ISSUE_CASES: Array<[string, number | null, 'ratio' | 'value', 'higher' | 'lower']> = [
  ['GET /api/contacts/:id vs B-get', 0.5, 'ratio', 'higher'],
  ['GET /api/contacts (page of 50) vs B-list', 0.3, 'ratio', 'higher'],
  ['POST /api/contacts vs B-insert', 0.5, 'ratio', 'higher'],
  ['GET /livez vs B-koa', 0.7, 'ratio', 'higher'],
  ['POST /webhooks/gmail vs B-koa', 0.25, 'ratio', 'higher'],
  ['pipeline: jobs completed per second vs B-jobs', 0.15, 'ratio', 'higher'],
  ['pipeline: replies per second', null, 'value', 'higher'],
  // history.list (2) + messages.get (5) + messages.send (100), plus one threads.get (10)
  ['pipeline: Gmail quota units per reply', 117, 'value', 'lower'],
  ['scale: GET /api/contacts latency, 100k vs 1k contacts', 1.5, 'ratio', 'lower'],
  ['scale: GET /api/contacts/:id/messages latency, 1M vs 10k messages', 1.5, 'ratio', 'lower'],
  ['memory: resident size of web', 250, 'value', 'lower'],
  ['memory: resident size of worker', 250, 'value', 'lower'],
];

describe('bench: results and BENCHMARKS.md (issue 7)', () => {
  const file = JSON.parse(read('bench/results.json')) as ResultsFile;

  it('is run by `npm run bench`, outside `npm test` (point 1)', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.bench).to.match(/bench\/run\.ts/);
    expect(pkg.scripts.test).to.not.match(/bench/);
    const mocha = JSON.parse(read('.mocharc.json')) as { spec: string[] };
    expect(mocha.spec.every((s) => s.startsWith('test/'))).to.equal(true);
  });

  it('keeps the results of a full run of at least 5 paired rounds, with the machine described (point 1)', () => {
    expect(file.settings.only).to.deep.equal([]);
    expect(file.settings.rounds).to.be.at.least(5);
    expect(file.settings.serverCpus).to.not.equal(file.settings.loadCpus);
    for (const field of ['cpu', 'cores', 'memory_gib', 'kernel', 'node', 'postgres', 'redis', 'wrk', 'load_average_at_start', 'date', 'product'] as const) {
      expect(file.machine[field], field).to.not.equal(undefined);
    }
    // A partial run (--only) writes elsewhere, so these stay the full run's.
    expect(resultFiles({ only: ['webhook'] }).json).to.not.equal(path.join(ROOT, 'bench/results.json'));
    expect(resultFiles({ only: [] }).json).to.equal(path.join(ROOT, 'bench/results.json'));
  });

  it('holds every case of the issue with its target, and judges each by it (points 1 and 3)', () => {
    for (const [name, target, appliesTo, better] of ISSUE_CASES) {
      const r = file.results.find((c) => c.name === name);
      expect(r, name).to.not.equal(undefined);
      expect(r, name).to.include({ target, target_applies_to: appliesTo, better });
      expect(Object.keys(r!), name).to.include.members(['name', 'value', 'baseline', 'ratio', 'target', 'pass']);
      expect(judged(r!).pass, name).to.equal(r!.pass);
      if (appliesTo === 'ratio' && target !== null) {
        expect(r!.round_ratios!.length, name).to.be.at.least(5);
        expect(r!.sides!.length, name).to.be.at.least(2);
        for (const side of r!.sides!) expect(side, `${name}: ${side.label}`).to.have.all.keys('label', 'rate', 'p50_ms', 'p99_ms', 'cpu_ms_per_op', 'errors');
      }
    }
  });

  it('shows the same table in bench/results.md and in BENCHMARKS.md (points 1 and 4)', () => {
    const table = markdownTable(file.machine, file.settings, file.results, file.minutes);
    expect(read('bench/results.md')).to.equal(`# Latest bench run\n\n${table}\n`);
    const doc = read('BENCHMARKS.md');
    const start = '<!-- bench:table:start -->\n';
    expect(doc.slice(doc.indexOf(start) + start.length, doc.indexOf('<!-- bench:table:end -->'))).to.equal(`${table}\n`);
  });

  it('explains how to run it, each case, and the cause of every missed target (point 4)', () => {
    const doc = read('BENCHMARKS.md');
    expect(doc).to.contain('npm run bench');
    expect(doc).to.contain('--profile=');
    const cases = doc.slice(doc.indexOf('## Cases'), doc.indexOf('## Latest results'));
    for (const subject of ['GET /api/contacts/:id', 'GET /api/contacts', 'POST /api/contacts', 'GET /livez', 'POST /webhooks/gmail', 'pipeline', 'scale', 'memory', 'B-get', 'B-list', 'B-insert', 'B-koa', 'B-add', 'B-jobs']) {
      expect(cases, subject).to.contain(subject);
    }
    const causes = doc.slice(doc.indexOf('## What limits the ratios'));
    const headings = causes.split('\n').filter((l) => l.startsWith('### ')).map((l) => l.toLowerCase());
    for (const missed of file.results.filter((r) => r.pass === false)) {
      const subject = missed.name.split(/ vs | \(|:/)[0]!.trim().toLowerCase();
      expect(headings.some((h) => h.startsWith(`### ${subject}`)), `a section on ${missed.name}`).to.equal(true);
    }
    expect(headings.some((h) => h.includes('slowest ratio'))).to.equal(true);
  });
});
