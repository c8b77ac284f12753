import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createMetrics } from '../../src/observability/metrics';

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8');
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'rate', 'increase', 'by', 'without', 'histogram_quantile', 'time', 'and', 'or', 'unless', 'on']);
/** Prometheus's own series, not the product's. */
const PROMETHEUS_SERIES = new Set(['up']);

function alertRules(): Array<{ alert: string; expr: string }> {
  const section = DOC.slice(DOC.indexOf('## Alerts and runbook'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
  const rules: Array<{ alert: string; expr: string }> = [];
  for (const m of yaml.matchAll(/- alert: (\w+)\n\s+expr: (.+)\n/g)) rules.push({ alert: m[1]!, expr: m[2]! });
  return rules;
}

function seriesIn(expr: string): string[] {
  const bare = expr.replace(/\b\d[\d.]*(e\d+)?\b/g, '').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').replace(/by \([^)]*\)/g, '');
  return [...bare.matchAll(/[a-z_][a-z0-9_]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word));
}

describe('docs/deployment.md', () => {
  it('has a runbook entry for every alert, and only alerts on metrics that exist', async () => {
    const rules = alertRules();
    expect(rules.length).to.be.greaterThan(10);
    const metrics = createMetrics();
    const exposed = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    const known = new Set([...exposed, ...exposed.flatMap((n) => [`${n}_bucket`, `${n}_count`, `${n}_sum`])]);
    for (const { alert, expr } of rules) {
      expect(DOC, `runbook row for ${alert}`).to.match(new RegExp(`\\n\\| ${alert} \\|`));
      for (const series of seriesIn(expr)) {
        expect(known.has(series) || PROMETHEUS_SERIES.has(series), `${alert}: ${series} is not a metric of the product`).to.equal(true);
      }
    }
  });

  it('covers Google Cloud, Redis, scaling, backups and key rotation, and points at the README for every variable', () => {
    for (const needle of [
      '../README.md#configuration',
      'gmail-api-push@system.gserviceaccount.com',
      'roles/pubsub.publisher',
      '--push-auth-token-audience',
      '--push-auth-service-account',
      'PUBSUB_SUBSCRIPTION',
      'gmail.readonly',
      'verification',
      'noeviction',
      'appendonly yes',
      '## Scaling web and worker',
      '## Backups',
      'npm run reencrypt',
    ]) {
      expect(DOC, needle).to.contain(needle);
    }
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).to.contain('docs/deployment.md');
  });

  it('matches the Procfile: web, worker and release', () => {
    const procfile = readFileSync(path.join(ROOT, 'Procfile'), 'utf8');
    expect(procfile).to.match(/^web: node (?:--[\w=-]+ )*dist\/src\/main\/web\.js$/m);
    expect(procfile).to.match(/^worker: node (?:--[\w=-]+ )*dist\/src\/main\/worker\.js$/m);
    expect(procfile).to.match(/^release: node dist\/src\/main\/migrate\.js$/m);
  });
});
