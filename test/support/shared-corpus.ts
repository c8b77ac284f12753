import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The shared real-world mail corpus, read in place from ../shared/fixtures/mail (beside the
 * repository, in CI too). It is never copied into the repository; when it is absent, the suites
 * that use it register a pending test that says so.
 */
export const CORPUS_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'mail');

export interface ManifestEntry {
  file: string;
  type: string;
  exercises: string[];
  notes?: string;
  expected: Record<string, unknown> & {
    subject_trimmed?: string | null;
    message_id?: string | null;
    references_ids?: string[];
    body_kind?: 'plain' | 'html-only' | 'none';
    body_text_first200?: string;
    html_visible_text_first200?: string;
    lenient_reading?: { compat32_first_text_plain_first200?: string };
    automation_signals?: { automatic_by_listed_headers: boolean };
  };
}

export function corpusPresent(): boolean {
  return existsSync(path.join(CORPUS_DIR, 'MANIFEST.json'));
}

export function manifestEntries(type?: string): ManifestEntry[] {
  const manifest = JSON.parse(readFileSync(path.join(CORPUS_DIR, 'MANIFEST.json'), 'utf8')) as { files: ManifestEntry[] };
  return manifest.files.filter((f) => type === undefined || f.type === type);
}

export function corpusFile(entry: ManifestEntry): Buffer {
  return readFileSync(path.join(CORPUS_DIR, entry.file));
}

export const CORPUS_ABSENT = `shared corpus not found at ${CORPUS_DIR}: its tests were not run`;

/** The body text the manifest expects (as Python's email package reads it), or null if none. */
export function expectedBody(entry: ManifestEntry): { kind: 'plain' | 'html-only'; text: string } | null {
  const e = entry.expected;
  if (e.body_kind === 'plain') return { kind: 'plain', text: e.body_text_first200 ?? '' };
  if (e.body_kind === 'html-only') return { kind: 'html-only', text: e.html_visible_text_first200 ?? '' };
  // Where strict parsing lost the MIME boundary, a lenient reader (like ours) finds the text part.
  const lenient = e.lenient_reading?.compat32_first_text_plain_first200;
  return lenient !== undefined ? { kind: 'plain', text: lenient } : null;
}

/** Does `actual` (our message_text) show the expected body? Whitespace runs compare as one for HTML. */
export function showsBody(actual: string, expected: { kind: 'plain' | 'html-only'; text: string }): boolean {
  if (expected.kind === 'html-only') {
    const flat = (s: string) => s.replace(/\s+/g, ' ').trim();
    return flat(actual).startsWith(flat(expected.text));
  }
  return actual.trim().startsWith(expected.text.trim());
}
