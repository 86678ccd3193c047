import type { Lang } from './i18n';

const LOCALES: Readonly<Record<Lang, string>> = { en: 'en-GB', fr: 'fr-FR' };

/** "22 Nov 2026, 01:23" in the UI language and the browser's time zone. */
export function formatDateTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** "22 Nov 2026" in the UI language. */
export function formatDate(iso: string | Date | null | undefined, lang: Lang): string {
  if (!iso) return '';
  const date = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium' }).format(date);
}

/** A number in the UI language. */
export function formatNumber(n: number, lang: Lang): string {
  return new Intl.NumberFormat(LOCALES[lang]).format(n);
}

/** A language's name ("fr" → "French" / "français"), or the code when unknown. */
export function languageName(code: string, lang: Lang): string {
  try {
    const names = new Intl.DisplayNames([LOCALES[lang]], { type: 'language' });
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}

/** "YYYY-MM-DD" of a local date. */
export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The UTC instant of local midnight at the start of "YYYY-MM-DD" plus `days`. */
export function dayStart(day: string, days = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A slug from a name: "Billing & Help!" → "billing-help". */
export function slugify(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');
}

/** Tags from "billing, Refunds  invoices" → ["billing", "refunds", "invoices"] (each once). */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\s,;]+/)) {
    const v = part.trim().toLowerCase();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** "in 3 hours" / "5 minutes ago" ("dans 3 heures", "il y a 5 minutes") from a number of seconds. */
export function formatRelative(seconds: number, lang: Lang): string {
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(LOCALES[lang], { numeric: 'auto' });
  if (abs < 60) return rtf.format(Math.round(seconds), 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400 * 2) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** A length of time: "2 h 05 min", "3 days", in the UI language. */
export function formatDuration(seconds: number, lang: Lang): string {
  const s = Math.max(0, Math.round(seconds));
  const unit = (value: number, u: 'day' | 'hour' | 'minute') =>
    new Intl.NumberFormat(LOCALES[lang], { style: 'unit', unit: u, unitDisplay: 'long' }).format(value);
  if (s >= 86400 && s % 86400 === 0) return unit(s / 86400, 'day');
  if (s >= 3600) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${unit(h, 'hour')} ${unit(m, 'minute')}` : unit(h, 'hour');
  }
  return unit(Math.max(1, Math.round(s / 60)), 'minute');
}

/** A number with its sign: "+20", "−30", "0". */
export function formatSigned(n: number, lang: Lang): string {
  return new Intl.NumberFormat(LOCALES[lang], { signDisplay: 'exceptZero' }).format(n);
}
