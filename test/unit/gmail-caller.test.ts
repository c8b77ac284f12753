import { expect } from 'chai';
import { createGmailCaller } from '../../src/gmail/retry';
import { GmailRateLimitedError } from '../../src/gmail/errors';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { createLogger } from '../../src/observability/logger';

/** An error shaped like the ones gaxios raises for an HTTP answer. */
function httpError(status: number, opts: { retryAfter?: string; reason?: string; message?: string } = {}): Error {
  const headers = new Headers(opts.retryAfter ? { 'retry-after': opts.retryAfter } : {});
  const err = new Error(opts.message ?? `status ${status}`) as Error & { status: number; response: unknown };
  err.status = status;
  err.response = { status, headers, data: { error: { code: status, errors: opts.reason ? [{ reason: opts.reason }] : [] } } };
  return err;
}

function networkError(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

/** A request that fails with the given errors in turn, then answers 'ok'. */
function scripted(...failures: Error[]) {
  const calls = { count: 0 };
  const request = async () => {
    const failure = failures[calls.count];
    calls.count += 1;
    if (failure) throw failure;
    return 'ok';
  };
  return { request, calls };
}

async function metricValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

describe('Gmail caller: retries, rate limits and quota', () => {
  const logger = createLogger({ level: 'silent', pretty: false });
  let metrics: Metrics;
  let slept: number[];
  const setup = (maxRetries = 3, now = () => 1_000_000) => {
    metrics = createMetrics();
    slept = [];
    return createGmailCaller({ maxRetries, random: () => 0.5, now, sleep: async (ms) => void slept.push(ms) }, metrics, logger);
  };

  it('answers at once and counts the call and its quota units', async () => {
    const call = setup();
    expect(await call('messages.get', async () => 'message', { idempotent: true })).to.equal('message');
    expect(slept).to.deep.equal([]);
    expect(await metricValue(metrics, 'gmail_api_calls_total', { method: 'messages.get', outcome: 'ok' })).to.equal(1);
    expect(await metricValue(metrics, 'gmail_quota_units_total', { method: 'messages.get' })).to.equal(5);
  });

  it('waits as long as Retry-After asks, plus jitter, after a 429', async () => {
    const call = setup();
    const { request, calls } = scripted(httpError(429, { retryAfter: '2' }));
    expect(await call('history.list', request, { idempotent: true })).to.equal('ok');
    expect(calls.count).to.equal(2);
    expect(slept).to.have.length(1);
    expect(slept[0]).to.be.at.least(2000).and.at.most(3000);
    expect(await metricValue(metrics, 'gmail_api_retries_total', { method: 'history.list' })).to.equal(1);
    expect(await metricValue(metrics, 'gmail_quota_units_total', { method: 'history.list' }), 'the refused call is not charged').to.equal(2);
  });

  it("reads Gmail's own 'Retry after <date>' when the header is missing", async () => {
    const now = Date.parse('2026-12-04T10:00:00.000Z');
    const call = setup(3, () => now);
    const { request } = scripted(httpError(429, { message: 'User-rate limit exceeded.  Retry after 2026-12-04T10:00:05.000Z', reason: 'rateLimitExceeded' }));
    await call('messages.get', request, { idempotent: true });
    expect(slept[0]).to.be.at.least(5000).and.at.most(6000);
  });

  it('treats a 403 rateLimitExceeded like a 429, and any other 403 as final', async () => {
    const call = setup();
    const limited = scripted(httpError(403, { reason: 'userRateLimitExceeded' }));
    expect(await call('messages.get', limited.request, { idempotent: true })).to.equal('ok');
    expect(limited.calls.count).to.equal(2);
    const forbidden = scripted(httpError(403, { reason: 'insufficientPermissions' }));
    let caught: unknown;
    await call('messages.get', forbidden.request, { idempotent: true }).catch((err: unknown) => (caught = err));
    expect((caught as { status: number }).status).to.equal(403);
    expect(forbidden.calls.count).to.equal(1);
  });

  it('backs off exponentially on 5xx and lost connections for idempotent calls', async () => {
    const call = setup();
    const { request, calls } = scripted(httpError(503), networkError(), httpError(500));
    expect(await call('history.list', request, { idempotent: true })).to.equal('ok');
    expect(calls.count).to.equal(4);
    expect(slept).to.have.length(3);
    expect(slept[1]!).to.be.greaterThan(slept[0]!);
    expect(slept[2]!).to.be.greaterThan(slept[1]!);
  });

  it('never repeats a send after a 5xx or a lost connection (the mail may have gone out)', async () => {
    const call = setup();
    for (const failure of [httpError(500), networkError()]) {
      const { request, calls } = scripted(failure);
      let caught: unknown;
      await call('messages.send', request, { idempotent: false }).catch((err: unknown) => (caught = err));
      expect(caught).to.equal(failure);
      expect(calls.count).to.equal(1);
    }
    // A 429 means Gmail did not take the mail: repeating it is safe.
    const limited = scripted(httpError(429, { retryAfter: '1' }));
    expect(await call('messages.send', limited.request, { idempotent: false })).to.equal('ok');
  });

  it('gives up after the configured retries with the last error', async () => {
    const call = setup(2);
    const { request, calls } = scripted(httpError(502), httpError(502), httpError(502), httpError(502));
    let caught: unknown;
    await call('messages.get', request, { idempotent: true }).catch((err: unknown) => (caught = err));
    expect((caught as { status: number }).status).to.equal(502);
    expect(calls.count).to.equal(3);
  });

  it('puts the job back (GmailRateLimitedError) when Gmail asks for a long wait or keeps refusing', async () => {
    const now = 5_000_000;
    const call = setup(3, () => now);
    const long = scripted(httpError(429, { retryAfter: '120' }));
    let caught: unknown;
    await call('messages.get', long.request, { idempotent: true }).catch((err: unknown) => (caught = err));
    expect(caught).to.be.instanceOf(GmailRateLimitedError);
    expect((caught as GmailRateLimitedError).retryAt.getTime()).to.be.at.least(now + 120_000);
    expect(long.calls.count).to.equal(1);

    const stubborn = scripted(...Array.from({ length: 10 }, () => httpError(429, { retryAfter: '1' })));
    caught = undefined;
    await call('messages.get', stubborn.request, { idempotent: true }).catch((err: unknown) => (caught = err));
    expect(caught).to.be.instanceOf(GmailRateLimitedError);
    expect(stubborn.calls.count).to.equal(4);
  });
});
