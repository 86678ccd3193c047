import { ApiError } from './api';
import type { I18n, MessageKey } from './i18n';

type T = I18n['t'];

// Error codes of the API that the app words itself, in the user's language.
const CODES: Readonly<Record<string, MessageKey>> = {
  network_error: 'error.network',
  forbidden: 'error.forbidden',
  csrf_failed: 'error.csrf',
  unauthenticated: 'error.unauthenticated',
  not_found: 'error.notFound',
  database_unavailable: 'error.unavailable',
  database_timeout: 'error.unavailable',
  overloaded: 'error.unavailable',
  internal_error: 'error.unknown',
  bad_response: 'error.unknown',
  invalid_credentials: 'signin.invalidCredentials',
  invalid_token: 'reset.invalidToken',
  slug_taken: 'error.slugTaken',
  email_taken: 'error.emailTaken',
  last_manager: 'error.lastManager',
  not_member: 'error.notMember',
  already_member: 'error.alreadyMember',
  no_request: 'error.noRequest',
  not_changed: 'error.notChanged',
  not_removed: 'error.notRemoved',
  own_account: 'error.ownAccount',
  too_many: 'error.tooMany',
  already_claimed: 'error.alreadyClaimed',
  not_claimed: 'error.notClaimed',
  already_declined: 'error.alreadyDeclined',
  invalid_state: 'error.invalidState',
  question_not_found: 'error.questionNotFound',
  not_api_channel: 'error.notApiChannel',
};

// The server's usual sentences for a field, and ours for them.
const FIELD_MESSAGES: ReadonlyArray<readonly [RegExp, MessageKey]> = [
  [/^The current password is wrong/, 'error.currentPasswordWrong'],
  [/^Unknown time zone/, 'error.timeZone'],
  [/^The end must come after the start/, 'error.endBeforeStart'],
  [/^This is not a valid time/, 'error.invalidDate'],
  [/^A password has at least/, 'error.passwordShort'],
  [/^This field is required|^This field must not be empty/, 'form.required'],
  [/^This field is too long/, 'form.tooLong'],
  [/^This is not an e-mail address/, 'form.emailInvalid'],
  [/^A tag appears twice/, 'expertise.duplicate'],
  [/^A period away ends in the future; at most 50/, 'error.tooMany'],
];

/** What went wrong, in words for the user. */
export function errorText(err: unknown, t: T): string {
  if (!(err instanceof ApiError)) return t('error.unknown');
  if (err.code === 'rate_limited') {
    return err.retryAfter ? t('error.rateLimitedFor', { seconds: err.retryAfter }) : t('error.rateLimited');
  }
  if (err.code === 'invalid_field' || err.code === 'invalid_query') return fieldErrorText(err, t);
  const key = CODES[err.code];
  if (key) return t(key);
  return err.message || t('error.unknown');
}

/** The message to show next to the field an error names (invalid_field, slug_taken...). */
export function fieldErrorText(err: ApiError, t: T): string {
  const key = CODES[err.code];
  if (key && err.code !== 'invalid_field') return t(key);
  for (const [pattern, key] of FIELD_MESSAGES) if (pattern.test(err.message)) return t(key);
  return err.message || t('error.unknown');
}

/** The field an error is about, when it is one of `fields`. */
export function errorField<F extends string>(err: unknown, fields: readonly F[]): F | null {
  if (!(err instanceof ApiError) || !err.field) return null;
  return (fields as readonly string[]).includes(err.field) ? (err.field as F) : null;
}
