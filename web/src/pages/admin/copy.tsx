import { useState } from 'preact/hooks';
import { useI18n } from '../../i18n';

/** A secret shown once: read-only, selected on focus, with a Copy button. */
export function CopyField({ id, label, value }: { id: string; label: string; value: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<boolean | null>(null);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // No clipboard (plain HTTP, permissions): select the text for a manual copy.
      const input = document.getElementById(id) as HTMLInputElement | null;
      input?.focus();
      input?.select();
      setCopied(false);
    }
  };

  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="picker-row">
        <input
          id={id}
          type="text"
          readOnly
          value={value}
          spellcheck={false}
          class="secret"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" class="button button-secondary" onClick={() => void copy()}>
          {t('common.copy')}
        </button>
      </div>
      <p class="status" role="status">
        {copied === true ? t('common.copied') : copied === false ? t('common.copyManually') : ''}
      </p>
    </div>
  );
}
