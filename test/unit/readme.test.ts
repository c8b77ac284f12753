import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VARIABLES } from '../../src/config';

const README = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');

function configurationRows(): Map<string, { defaultText: string; meaning: string }> {
  const section = README.slice(README.indexOf('## Configuration'));
  const table = section.slice(0, section.indexOf('\n## ', 5));
  const rows = new Map<string, { defaultText: string; meaning: string }>();
  for (const line of table.split('\n')) {
    const m = /^\| `([A-Z0-9_]+)` \| (.*?) \| (.*) \|$/.exec(line);
    if (m) rows.set(m[1]!, { defaultText: m[2]!, meaning: m[3]! });
  }
  return rows;
}

describe('README', () => {
  it('documents every configuration variable once, and no other', () => {
    const rows = configurationRows();
    expect([...rows.keys()].sort()).to.deep.equal(VARIABLES.map((v) => v.name).sort());
  });

  it('shows the literal default of each variable that has one', () => {
    const rows = configurationRows();
    for (const v of VARIABLES) {
      const row = rows.get(v.name)!;
      if (typeof v.default === 'string' && v.default !== '') expect(row.defaultText, v.name).to.contain(v.default);
      if (v.requiredWhen && v.default === undefined) expect(row.defaultText, v.name).to.equal('required');
      expect(row.meaning.length, v.name).to.be.greaterThan(10);
    }
  });

  it('has a quick start of two commands: one runs everything, one runs all the tests', () => {
    const quick = README.slice(README.indexOf('## Quick start'), README.indexOf('\n## ', README.indexOf('## Quick start') + 5));
    const block = /```sh\n([\s\S]*?)```/.exec(quick)![1]!.trim().split('\n');
    expect(block).to.have.length(2);
    expect(block[0]).to.match(/^npm ci && npm start\b/);
    expect(block[1]).to.match(/^npm test\b/);
  });

  it('names the test command that .ci/run runs', () => {
    const ci = readFileSync(path.resolve(__dirname, '..', '..', '.ci', 'run'), 'utf8');
    expect(ci).to.match(/^npm test$/m);
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).to.contain('typecheck');
    expect(pkg.scripts.start).to.contain('src/main/dev.ts');
  });
});
