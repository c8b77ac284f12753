import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { BenchContext } from '../context';
import { OUTPUT_DIR } from '../lib/children';
import { HttpSession } from '../lib/http-session';
import { httpSide, runPaired, type PairedResult, type Side } from '../lib/paired';
import { profiled } from '../lib/profiled';
import { judged, type CaseResult } from '../lib/results';
import type { MemorySampler } from './memory';

const DESCRIPTION = 'Long-standing supplier of packaging. Answer politely, confirm delivery dates, never agree to price changes without asking me first; sign as Alex.';
const NEW_CONTACT = JSON.stringify({ email: 'c-{run}-{n}@example.org', name: 'Contact {run}-{n}', description_ai: DESCRIPTION, is_active: true });

/** The request/response cases: each product route against its bare baseline, in paired rounds. */
export async function httpCases(ctx: BenchContext, memory: MemorySampler): Promise<CaseResult[]> {
  const { settings, webUrl, baselineUrl, log } = ctx;
  const load = { connections: settings.connections, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds, cpus: settings.loadCpus };
  const web = () => ctx.web.pid;
  const base = () => ctx.baseline.pid;
  const origin = new URL(webUrl).origin;

  // A signed-in user with a page of contacts; another mailbox that receives the pushes.
  const api = await HttpSession.signIn(webUrl, 'bench-api@example.com');
  const apiUserId = (await api.request<{ id: string }>('GET', '/api/me')).body.id;
  let contactId = '';
  for (let i = 0; i < 60; i += 1) {
    const res = await api.request<{ id: string }>('POST', '/api/contacts', { email: `page-${i}@example.org`, name: `Page Contact ${i}`, description_ai: DESCRIPTION, is_active: i % 2 === 0 });
    if (res.status !== 201) throw new Error(`creating a contact answered ${res.status}: ${JSON.stringify(res.body)}`);
    contactId = res.body.id;
  }
  const pushEmail = 'bench-push@example.com';
  await HttpSession.signIn(webUrl, pushEmail);
  // B-insert writes its (plaintext) rows for a user of its own, never read by the product.
  const insertUserId = randomUUID();
  const db = new Client({ connectionString: ctx.env.databaseUrl });
  await db.connect();
  await db.query(`INSERT INTO users (id, email, google_sub, name) VALUES ($1, 'bench-baseline@example.com', 'bench-baseline', 'Baseline')`, [insertUserId]);
  await db.end();

  const { tokens } = await ctx.web.request<{ tokens: string[] }>('sign-push-tokens', { count: 200 });
  const tokensFile = path.join(OUTPUT_DIR, 'push-tokens.txt');
  writeFileSync(tokensFile, `${tokens.join('\n')}\n`);
  const pushBody = JSON.stringify({
    message: { data: Buffer.from(JSON.stringify({ emailAddress: pushEmail, historyId: 4242 })).toString('base64'), messageId: '2070443601311540', message_id: '2070443601311540', publishTime: new Date().toISOString() },
    subscription: 'projects/sandbox-project/subscriptions/gmail-push',
  });

  const session = { Cookie: api.cookieHeader() };
  const json = { 'Content-Type': 'application/json' };
  const bKoa = () => httpSide('B-koa', base, { url: `${baselineUrl}/b/koa` }, load);

  const cases: Array<{ key: string; name: string; target: number; sides: Side[]; note?: string }> = [
    {
      key: 'contact-get',
      name: 'GET /api/contacts/:id vs B-get',
      target: 0.5,
      sides: [
        httpSide('GET /api/contacts/:id', web, { url: `${webUrl}/api/contacts/${contactId}`, headers: session }, load),
        httpSide('B-get', base, { url: `${baselineUrl}/b/get/${contactId}` }, load),
      ],
    },
    {
      key: 'contact-list',
      name: 'GET /api/contacts (page of 50) vs B-list',
      target: 0.3,
      sides: [
        httpSide('GET /api/contacts', web, { url: `${webUrl}/api/contacts`, headers: session }, load),
        httpSide('B-list', base, { url: `${baselineUrl}/b/list/${apiUserId}` }, load),
      ],
    },
    {
      key: 'livez',
      name: 'GET /livez vs B-koa',
      target: 0.7,
      sides: [httpSide('GET /livez', web, { url: `${webUrl}/livez` }, load), bKoa()],
    },
    {
      key: 'webhook',
      name: 'POST /webhooks/gmail vs B-koa',
      target: 0.25,
      sides: [
        httpSide('POST /webhooks/gmail', web, { url: `${webUrl}/webhooks/gmail`, method: 'POST', headers: json, body: pushBody, tokensFile }, load),
        bKoa(),
        httpSide('B-add', base, { url: `${baselineUrl}/b/add`, method: 'POST' }, load, () => fetch(`${baselineUrl}/b/add`, { method: 'DELETE' }).then(() => undefined)),
      ],
      note: 'one sync job waits for this mailbox (no worker runs during the HTTP cases), so each push adds a deduplicated job',
    },
    {
      key: 'contact-create',
      name: 'POST /api/contacts vs B-insert',
      target: 0.5,
      sides: [
        httpSide('POST /api/contacts', web, { url: `${webUrl}/api/contacts`, method: 'POST', headers: { ...session, ...json, Origin: origin }, body: NEW_CONTACT }, load),
        httpSide('B-insert', base, { url: `${baselineUrl}/b/insert/${insertUserId}`, method: 'POST', headers: json, body: NEW_CONTACT }, load),
      ],
    },
  ];

  const results: CaseResult[] = [];
  for (const c of cases) {
    if (settings.only.length && !settings.only.includes(c.key)) continue;
    log(`${c.name}`);
    memory.enter(c.key);
    const paired = await profiled(ctx, c.key, () => runPaired(c.sides, settings.rounds, log));
    results.push(result(c.name, c.target, paired, c.note));
    if (c.key === 'webhook') results.push(result('POST /webhooks/gmail vs B-add (raw BullMQ add)', null, paired, 'reported only: how much of the push costs more than queueing a job', 2));
  }
  return results;
}

function result(name: string, target: number | null, paired: PairedResult, note?: string, baselineIndex = 1): CaseResult {
  const errors = paired.sides.reduce((n, s) => n + s.errors, 0);
  const judgedResult = judged({
    name,
    value: paired.sides[0]!.rate,
    baseline: paired.sides[baselineIndex]!.rate,
    ratio: paired.ratios[baselineIndex - 1]!,
    target,
    target_applies_to: 'ratio',
    better: 'higher',
    unit: 'req/s',
    sides: [paired.sides[0]!, paired.sides[baselineIndex]!],
    round_ratios: paired.roundRatios.map((r) => r[baselineIndex - 1]!),
    note: [note, errors ? `${errors} requests failed (non-2xx or socket errors): the figures are not valid` : undefined].filter(Boolean).join('; ') || undefined,
  });
  return errors && judgedResult.pass !== null ? { ...judgedResult, pass: false } : judgedResult;
}
