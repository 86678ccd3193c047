import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiFetch } from '../../api';
import { useI18n } from '../../i18n';
import { errorText } from '../../errors';
import { useApi } from '../../hooks';
import { listOf, type CommunityListItem } from '../../types';
import { PersonPicker } from '../../components/personpicker';

/**
 * Managers and admins hand a question to someone (POST /questions/{id}/assign {user_id}) or
 * move it to another community ({community_id}), where it is triaged and routed again.
 */
export function AssignPanel({
  questionId,
  communityId,
  title,
  onDone,
}: {
  questionId: number;
  communityId?: number | undefined;
  title: string;
  onDone: (message: string) => void;
}) {
  const { t } = useI18n();
  const communities = useApi<unknown>('/communities?limit=100');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const prefix = `assign-${questionId}`;

  const assign = async (body: { user_id: number } | { community_id: number }, message: string) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await apiFetch(`/questions/${questionId}/assign`, { method: 'POST', body });
      onDone(message);
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const others = listOf<CommunityListItem>(communities.data).filter((c) => c.id !== communityId);

  const onMove = (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const chosen = others.find((c) => String(c.id) === target);
    if (!chosen) {
      setError(t('assign.chooseCommunity'));
      return;
    }
    void assign({ community_id: chosen.id }, t('assign.moved', { title, community: chosen.name }));
  };

  return (
    <div class="assign-panel" role="group" aria-label={t('assign.label', { title })}>
      <PersonPicker
        id={`${prefix}-person`}
        label={t('assign.person')}
        hint={t('assign.personHint')}
        actionText={t('assign.action')}
        actionLabel={(p) => t('assign.actionLabel', { name: p.display_name })}
        onPick={(p) => void assign({ user_id: p.id }, t('assign.assigned', { title, name: p.display_name }))}
      />
      <form class="inline-form" onSubmit={onMove}>
        <div class="field">
          <label for={`${prefix}-community`}>{t('assign.community')}</label>
          <select id={`${prefix}-community`} value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="">{t('assign.chooseOne')}</option>
            {others.map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="button button-secondary" aria-disabled={busy ? 'true' : undefined}>
          {t('assign.move')}
        </button>
      </form>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
