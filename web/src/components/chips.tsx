import { useI18n } from '../i18n';
import type { ExpertiseItem } from '../types';

/** Expertise as chips: tag and level (1–5); each links to the directory filtered by the tag. */
export function ExpertiseChips({ items, label }: { items: readonly ExpertiseItem[]; label?: string }) {
  const { t } = useI18n();
  if (items.length === 0) return null;
  return (
    <ul class="chips" aria-label={label ?? t('expertise.label')}>
      {items.map((item) => (
        <li key={item.tag} class="chip">
          <a href={`/people?expertise=${encodeURIComponent(item.tag)}`}>
            <span class="chip-tag">{item.tag}</span>{' '}
            <span class={`chip-level level-${item.level}`}>{t('expertise.levelShort', { level: item.level })}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** Topics or plain tags as chips. */
export function TagChips({ tags, label }: { tags: readonly string[]; label: string }) {
  if (tags.length === 0) return null;
  return (
    <ul class="chips" aria-label={label}>
      {tags.map((tag) => (
        <li key={tag} class="chip chip-plain">
          {tag}
        </li>
      ))}
    </ul>
  );
}
