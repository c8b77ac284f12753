import { GMAIL_QUOTA_UNITS, type GmailMethod } from '../gmail/quota-units';

/**
 * Gmail quota accounting per mailbox. Units per method are Google's published costs
 * (https://developers.google.com/gmail/api/reference/quota). Gmail also enforces a per-user limit
 * of 15,000 units per minute (a moving window here); beyond it calls answer 429 rateLimitExceeded,
 * as Gmail does.
 */

// The sandbox charges what Gmail charges: the product's own table of Google's published costs.
export const QUOTA_UNITS = GMAIL_QUOTA_UNITS;
export type { GmailMethod };

export const PER_USER_UNITS_PER_MINUTE = 15_000;
const WINDOW_MS = 60_000;

export class QuotaCounter {
  private readonly units = new Map<GmailMethod, number>();
  private readonly calls = new Map<GmailMethod, number>();
  private window: Array<{ at: number; units: number }> = [];

  /** Milliseconds until `method` fits in the per-user window; 0 when it fits now. */
  waitBeforeCall(method: GmailMethod, now: number): number {
    this.window = this.window.filter((e) => e.at > now - WINDOW_MS);
    const used = this.window.reduce((sum, e) => sum + e.units, 0);
    if (used + QUOTA_UNITS[method] <= PER_USER_UNITS_PER_MINUTE) return 0;
    let freed = 0;
    for (const e of this.window) {
      freed += e.units;
      if (used - freed + QUOTA_UNITS[method] <= PER_USER_UNITS_PER_MINUTE) return Math.max(1, e.at + WINDOW_MS - now);
    }
    return WINDOW_MS;
  }

  record(method: GmailMethod, now: number): void {
    const cost = QUOTA_UNITS[method];
    this.units.set(method, (this.units.get(method) ?? 0) + cost);
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    this.window.push({ at: now, units: cost });
  }

  toJson(): { units_by_method: Record<string, number>; calls_by_method: Record<string, number>; total_units: number } {
    const unitsByMethod = Object.fromEntries(this.units);
    const callsByMethod = Object.fromEntries(this.calls);
    const total = [...this.units.values()].reduce((a, b) => a + b, 0);
    return { units_by_method: unitsByMethod, calls_by_method: callsByMethod, total_units: total };
  }
}
