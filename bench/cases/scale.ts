import type { BenchContext } from '../context';
import { HttpSession } from '../lib/http-session';
import { httpSide, runPaired } from '../lib/paired';
import { judged, type CaseResult } from '../lib/results';
import { median } from '../lib/stats';
import { loadUser } from '../scale/load';
import { profiled } from '../lib/profiled';
import type { MemorySampler } from './memory';

/**
 * Latency of the contact list and of a contact's history for a user with many rows against one
 * with 1% of them, in paired rounds, one request at a time (wrk, 1 connection).
 */
export async function scaleCase(ctx: BenchContext, memory: MemorySampler): Promise<CaseResult[]> {
  const { settings, webUrl, log } = ctx;
  if (settings.only.length && !settings.only.includes('scale')) return [];
  const users = [
    { label: 'large', email: 'scale-large@example.com', tag: 'L', contacts: settings.scaleContacts, messages: settings.scaleMessages },
    { label: 'small', email: 'scale-small@example.com', tag: 'S', contacts: Math.round(settings.scaleContacts / 100), messages: Math.round(settings.scaleMessages / 100) },
  ];
  memory.enter('scale-load');
  const loaded: Array<(typeof users)[number] & Awaited<ReturnType<typeof loadUser>> & { cookie: string }> = [];
  for (const u of users) {
    const session = await HttpSession.signIn(webUrl, u.email);
    const userId = (await session.request<{ id: string }>('GET', '/api/me')).body.id;
    const started = Date.now();
    const data = await loadUser({
      workerEntry: ctx.compiled('bench/scale/load-worker.ts'),
      env: ctx.productEnv as Record<string, string>,
      databaseUrl: ctx.env.databaseUrl,
      userId,
      tag: u.tag,
      contacts: u.contacts,
      messages: u.messages,
    });
    log(`scale: loaded ${u.contacts} contacts and ${u.messages} messages for the ${u.label} user in ${Math.round((Date.now() - started) / 1000)} s`);
    loaded.push({ ...u, ...data, cookie: session.cookieHeader() });
  }

  const load = { connections: 1, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds, cpus: settings.loadCpus };
  const probes = [
    { key: 'scale-list', name: 'scale: GET /api/contacts latency, 100k vs 1k contacts', path: () => '/api/contacts' },
    { key: 'scale-history', name: 'scale: GET /api/contacts/:id/messages latency, 1M vs 10k messages', path: (u: (typeof loaded)[number]) => `/api/contacts/${u.probeContactId}/messages` },
  ];
  const results: CaseResult[] = [];
  for (const probe of probes) {
    log(probe.name);
    memory.enter(probe.key);
    const sides = loaded.map((u) => httpSide(`${probe.key.replace('scale-', '')}, ${u.label} user`, () => ctx.web.pid, { url: `${webUrl}${probe.path(u)}`, headers: { Cookie: u.cookie } }, load));
    const paired = await profiled(ctx, probe.key, () => runPaired(sides, settings.rounds, log));
    const latencyRatios = paired.rounds.map(([large, small]) => large!.p50Ms / small!.p50Ms);
    const errors = paired.sides.reduce((n, s) => n + s.errors, 0);
    const result = judged({
      name: probe.name.replace('100k', `${loaded[0]!.contacts / 1000}k`).replace('1k', `${loaded[1]!.contacts / 1000}k`).replace('1M', `${loaded[0]!.messages / 1e6}M`).replace('10k', `${loaded[1]!.messages / 1000}k`),
      value: paired.sides[0]!.p50_ms,
      baseline: paired.sides[1]!.p50_ms,
      ratio: median(latencyRatios),
      target: 1.5,
      target_applies_to: 'ratio',
      better: 'lower',
      unit: 'ms',
      sides: paired.sides,
      round_ratios: latencyRatios,
      note: `p50 latency, one request at a time; ratio: large user / small user${errors ? `; ${errors} requests failed: not valid` : ''}`,
    });
    results.push(errors ? { ...result, pass: false } : result);
  }
  return results;
}
