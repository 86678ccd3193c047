import type { ComponentChildren } from 'preact';
import { useI18n, type MessageKey } from '../../i18n';
import { usePath } from '../../router';

const SECTIONS: ReadonlyArray<{ href: string; label: MessageKey }> = [
  { href: '/admin/users', label: 'admin.users' },
  { href: '/admin/tokens', label: 'admin.tokens' },
  { href: '/admin/channels', label: 'admin.channels' },
  { href: '/admin/audit', label: 'admin.audit' },
];

/** An administration page: its heading, the admin sections' navigation, its content. */
export function AdminLayout({ title, page, children }: { title: string; page: string; children: ComponentChildren }) {
  const { t } = useI18n();
  const path = usePath();
  return (
    <section class="page page-wide" data-page={page}>
      <p class="breadcrumb">{t('admin.title')}</p>
      <h1 tabIndex={-1}>{title}</h1>
      <nav class="subnav" aria-label={t('admin.sections')}>
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.href}>
              <a href={s.href} aria-current={path === s.href ? 'page' : undefined}>
                {t(s.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {children}
    </section>
  );
}
