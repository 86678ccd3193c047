import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { en, type MessageKey, type Messages } from './en';
import { fr } from './fr';

export type { MessageKey, Messages };

export const LANGS = ['en', 'fr'] as const;
export type Lang = (typeof LANGS)[number];

// Each language is named in itself, so these are the same in every catalogue.
export const LANG_NAMES: Readonly<Record<Lang, string>> = { en: 'English', fr: 'Français' };

const CATALOGUES: Readonly<Record<Lang, Messages>> = { en, fr };
const STORAGE_KEY = 'relais.lang';

function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** The saved choice if any, else the first supported language the browser prefers, else English. */
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLang(saved)) return saved;
  } catch {
    // Storage can be disabled; fall back to the browser's preference.
  }
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    const base = (tag ?? '').toLowerCase().split('-')[0];
    if (isLang(base)) return base;
  }
  return 'en';
}

export function saveLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not persisted; the choice still applies to this page.
  }
}

export type Params = Readonly<Record<string, string | number>>;

/** Looks up `key` and replaces `{name}` placeholders with `params.name`. */
export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  const text = CATALOGUES[lang][key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, params?: Params) => string;
}

export const I18nContext = createContext<I18n>({
  lang: 'en',
  setLang: () => {},
  t: (key, params) => translate('en', key, params),
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}
