import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { ApiError, apiFetch } from '../../api';
import { useI18n } from '../../i18n';
import { errorText } from '../../errors';
import { formatDateTime, formatDuration, languageName } from '../../format';
import { useApi } from '../../hooks';
import {
  listOf,
  type Channel,
  type ChannelKind,
  type CommunityListItem,
  type Delivery,
  type NewChannel,
} from '../../types';
import { FormError, SelectField, Status, SubmitButton, TextField, focusLater, useFormErrors } from '../../components/forms';
import { LoadError, Loading, gateView, useTitle } from '../../components/views';
import { AdminLayout } from './layout';
import { CopyField } from './copy';

const KINDS: readonly ChannelKind[] = ['api', 'web_form'];
const FIELDS = ['kind', 'name', 'community_id', 'language', 'sla_seconds', 'slug'] as const;
type Field = (typeof FIELDS)[number];
const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
const MAX_SLA_HOURS = 720;

/** A secret shown once: after creating an api channel or rotating its secret. */
interface Revealed {
  channel: string;
  secret: string;
  previousExpiresAt?: string | null;
}

/** /admin/channels: where questions come from; create, disable, rotate secrets, deliveries. */
export function AdminChannelsPage() {
  const { t, lang } = useI18n();
  const list = useApi<unknown>('/channels?limit=200');
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const gate = gateView(list.error);
  useTitle(gate ? false : t('admin.channels'));
  if (gate) return gate;

  const channels = listOf<Channel>(list.data, 'channels');

  return (
    <AdminLayout title={t('admin.channels')} page="admin-channels">
      <p class="lead">{t('channels.intro')}</p>
      {revealed && (
        <div class="card reveal" role="region" aria-labelledby="secret-heading">
          <h2 id="secret-heading">{t('channels.secretFor', { name: revealed.channel })}</h2>
          <p class="warning">
            <strong>{t('channels.secretWarning')}</strong>
          </p>
          {revealed.previousExpiresAt && (
            <p>{t('channels.previousValid', { date: formatDateTime(revealed.previousExpiresAt, lang) })}</p>
          )}
          <CopyField id="channel-secret" label={t('channels.secret')} value={revealed.secret} />
          <button type="button" class="button button-secondary" onClick={() => setRevealed(null)}>
            {t('common.done')}
          </button>
        </div>
      )}
      <CreateChannel
        onCreated={(channel) => {
          list.reload();
          setStatus(t('channels.created', { name: channel.name }));
          if (channel.secret) {
            setRevealed({ channel: channel.name, secret: channel.secret });
            focusLater('channel-secret');
          }
        }}
      />
      <Status message={status} />
      <h2>{t('channels.list')}</h2>
      {list.error !== null ? (
        <LoadError error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : channels.length === 0 ? (
        <p>{t('channels.none')}</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t('channels.list')}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('channels.name')}</th>
                <th scope="col">{t('channels.community')}</th>
                <th scope="col">{t('channels.language')}</th>
                <th scope="col">{t('channels.sla')}</th>
                <th scope="col">{t('channels.status')}</th>
                <th scope="col">{t('channels.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {channels.map((c) => (
                <ChannelRow
                  key={c.id}
                  channel={c}
                  onChanged={(message) => {
                    setStatus(message);
                    list.reload();
                  }}
                  onSecret={(secret, previousExpiresAt) => {
                    setRevealed({ channel: c.name, secret, previousExpiresAt });
                    setStatus(t('channels.rotated', { name: c.name }));
                    focusLater('channel-secret');
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AdminLayout>
  );
}

function ChannelRow({
  channel: c,
  onChanged,
  onSecret,
}: {
  channel: Channel;
  onChanged: (message: string) => void;
  onSecret: (secret: string, previousExpiresAt: string | null) => void;
}) {
  const { t, lang } = useI18n();
  const [confirming, setConfirming] = useState(false);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (work: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  const changeStatus = (status: 'active' | 'disabled') =>
    run(async () => {
      await apiFetch(`/channels/${c.id}`, { method: 'PATCH', body: { status } });
      onChanged(t(status === 'active' ? 'channels.enabled' : 'channels.disabled', { name: c.name }));
    });

  const rotate = () =>
    run(async () => {
      const answer = await apiFetch<{ secret: string; previous_expires_at?: string | null }>(`/channels/${c.id}/secret`, {
        method: 'POST',
      });
      setConfirming(false);
      onSecret(answer.secret, answer.previous_expires_at ?? null);
    });

  return (
    <>
      <tr>
        <td>
          <strong>{c.name}</strong>
          <br />
          <span class="muted small">
            {t(`channelKind.${c.kind}` as const)} · <code>{c.slug}</code>
          </span>
          {c.kind === 'web_form' && (
            <>
              <br />
              <a class="small" href={`/ask/${c.slug}`}>
                {t('channels.formLink')}
              </a>
            </>
          )}
        </td>
        <td>{c.community_name}</td>
        <td>{languageName(c.language, lang)}</td>
        <td>{formatDuration(c.sla_seconds, lang)}</td>
        <td>
          <span class={`badge badge-${c.status}`}>{t(`channelStatus.${c.status}` as const)}</span>
        </td>
        <td>
          <span class="inline-controls">
            <button
              type="button"
              class="button button-secondary button-small"
              aria-label={t(c.status === 'active' ? 'channels.disableLabel' : 'channels.enableLabel', { name: c.name })}
              onClick={() => void changeStatus(c.status === 'active' ? 'disabled' : 'active')}
            >
              {t(c.status === 'active' ? 'channels.disable' : 'channels.enable')}
            </button>
            {c.kind === 'api' && !confirming && (
              <button
                type="button"
                class="button button-secondary button-small"
                aria-label={t('channels.rotateLabel', { name: c.name })}
                onClick={() => {
                  setConfirming(true);
                  focusLater(`rotate-confirm-${c.id}`);
                }}
              >
                {t('channels.rotate')}
              </button>
            )}
            <button
              type="button"
              class="button button-secondary button-small"
              aria-expanded={showDeliveries ? 'true' : 'false'}
              aria-label={t('channels.deliveriesLabel', { name: c.name })}
              onClick={() => setShowDeliveries(!showDeliveries)}
            >
              {t('channels.deliveries')}
            </button>
          </span>
          {confirming && (
            <div class="confirm" role="group" aria-labelledby={`rotate-q-${c.id}`}>
              <p id={`rotate-q-${c.id}`}>{t('channels.rotateConfirm', { name: c.name })}</p>
              <span class="inline-controls">
                <button
                  type="button"
                  id={`rotate-confirm-${c.id}`}
                  class="button button-small"
                  aria-disabled={busy ? 'true' : undefined}
                  onClick={() => void rotate()}
                >
                  {t('channels.rotateNow')}
                </button>
                <button type="button" class="button button-secondary button-small" onClick={() => setConfirming(false)}>
                  {t('common.cancel')}
                </button>
              </span>
            </div>
          )}
          {error && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}
        </td>
      </tr>
      {showDeliveries && (
        <tr class="subrow">
          <td colSpan={6}>
            <Deliveries channel={c} />
          </td>
        </tr>
      )}
    </>
  );
}

function Deliveries({ channel }: { channel: Channel }) {
  const { t, lang } = useI18n();
  const deliveries = useApi<unknown>(`/channels/${channel.id}/deliveries`);
  const items = listOf<Delivery>(deliveries.data, 'deliveries');
  const heading = `deliveries-${channel.id}`;
  return (
    <div class="deliveries">
      <h3 id={heading}>{t('deliveries.title', { name: channel.name })}</h3>
      {deliveries.error !== null ? (
        <LoadError error={deliveries.error} onRetry={deliveries.reload} />
      ) : !deliveries.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <p class="muted">{t('deliveries.none')}</p>
      ) : (
        <table class="table" aria-labelledby={heading}>
          <thead>
            <tr>
              <th scope="col">{t('deliveries.at')}</th>
              <th scope="col">{t('deliveries.status')}</th>
              <th scope="col">{t('deliveries.error')}</th>
              <th scope="col">{t('deliveries.webhookId')}</th>
              <th scope="col">{t('deliveries.question')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td class="nowrap">{formatDateTime(d.received_at, lang)}</td>
                <td>
                  <span class={`badge ${d.status >= 400 ? 'badge-disabled' : 'badge-active'}`}>{d.status}</span>
                </td>
                <td>{d.error_code ? <code>{d.error_code}</code> : '—'}</td>
                <td>{d.webhook_id ? <code class="details">{d.webhook_id}</code> : '—'}</td>
                <td>{d.question_id ? <a href={`/questions/${d.question_id}`}>#{d.question_id}</a> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button type="button" class="button button-secondary button-small" onClick={deliveries.reload}>
        {t('deliveries.refresh')}
      </button>
    </div>
  );
}

function CreateChannel({ onCreated }: { onCreated: (channel: NewChannel) => void }) {
  const { t } = useI18n();
  const communities = useApi<unknown>('/communities?limit=200');
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<ChannelKind>('api');
  const [name, setName] = useState('');
  const [communityId, setCommunityId] = useState('');
  const [language, setLanguage] = useState<'en' | 'fr'>('en');
  const [hours, setHours] = useState('8');
  const [slug, setSlug] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useFormErrors<Field>('channel', FIELDS);
  const list = listOf<CommunityListItem>(communities.data);

  const onSubmit = async (event: JSX.TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const errors: Partial<Record<Field, string>> = {};
    if (name.trim() === '') errors.name = t('form.required');
    if (!communityId) errors.community_id = t('channels.chooseCommunity');
    const h = Number(hours.replace(',', '.'));
    if (!Number.isFinite(h) || h <= 0 || h > MAX_SLA_HOURS) errors.sla_seconds = t('channels.slaInvalid', { max: MAX_SLA_HOURS });
    if (slug.trim() && !SLUG_PATTERN.test(slug.trim())) errors.slug = t('channels.slugInvalid');
    if (form.check(errors, FIELDS)) return;
    setBusy(true);
    try {
      const channel = await apiFetch<NewChannel>('/channels', {
        method: 'POST',
        body: {
          kind,
          name: name.trim(),
          community_id: Number(communityId),
          language,
          sla_seconds: Math.round(h * 3600),
          ...(slug.trim() ? { slug: slug.trim() } : {}),
        },
      });
      form.clear();
      setName('');
      setSlug('');
      onCreated(channel);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'slug_taken') form.check({ slug: t('channels.slugTaken') }, ['slug']);
      else form.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="card disclosure" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{t('channels.create')}</summary>
      <form class="form form-plain" method="post" noValidate onSubmit={onSubmit}>
        <div class="field-row">
          <SelectField<ChannelKind>
            id="channel-kind"
            label={t('channels.kind')}
            hint={t(kind === 'api' ? 'channels.kindApiHint' : 'channels.kindFormHint')}
            value={kind}
            onValue={setKind}
            options={KINDS.map((k) => ({ value: k, label: t(`channelKind.${k}` as const) }))}
            error={form.fieldErrors.kind}
          />
          <TextField
            id="channel-name"
            label={t('channels.name')}
            required
            maxLength={100}
            value={name}
            onValue={setName}
            error={form.fieldErrors.name}
          />
        </div>
        <div class="field-row">
          <SelectField<string>
            id="channel-community_id"
            label={t('channels.community')}
            value={communityId}
            onValue={setCommunityId}
            options={[{ value: '', label: t('assign.chooseOne') }, ...list.map((c) => ({ value: String(c.id), label: c.name }))]}
            error={form.fieldErrors.community_id}
          />
          <SelectField<'en' | 'fr'>
            id="channel-language"
            label={t('channels.language')}
            value={language}
            onValue={setLanguage}
            options={[
              { value: 'en', label: t('language.en') },
              { value: 'fr', label: t('language.fr') },
            ]}
            error={form.fieldErrors.language}
          />
        </div>
        <div class="field-row">
          <TextField
            id="channel-sla_seconds"
            label={t('channels.slaHours')}
            hint={t('channels.slaHint')}
            inputMode="decimal"
            value={hours}
            onValue={setHours}
            error={form.fieldErrors.sla_seconds}
          />
          <TextField
            id="channel-slug"
            label={t('channels.slug')}
            hint={t('channels.slugHint')}
            maxLength={63}
            spellcheck={false}
            autoCapitalize="none"
            value={slug}
            onValue={setSlug}
            error={form.fieldErrors.slug}
          />
        </div>
        <FormError message={form.formError} />
        <SubmitButton busy={busy} label={t('channels.submit')} />
      </form>
    </details>
  );
}
