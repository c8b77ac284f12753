/** Opaque numeric page tokens (Gmail's look like long digit strings), carrying one position. */

export function encodePageToken(position: number): string {
  return String(position * 7 + 3).padStart(20, '0');
}

export function decodePageToken(token: string): number | undefined {
  if (!/^\d{1,25}$/.test(token)) return undefined;
  const v = Number(token) - 3;
  return v >= 0 && v % 7 === 0 ? v / 7 : undefined;
}
