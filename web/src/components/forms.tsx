import type {
  ComponentChildren,
  InputHTMLAttributes,
  SelectHTMLAttributes,
  TextareaHTMLAttributes,
} from 'preact';
import { useCallback, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { errorText, fieldErrorText } from '../errors';

/** Focuses the element with this id once the current render is on screen. */
export function focusLater(id: string): void {
  setTimeout(() => document.getElementById(id)?.focus(), 0);
}

export interface FormErrors<F extends string> {
  fieldErrors: Partial<Record<F, string>>;
  formError: string | null;
  clear: () => void;
  /**
   * Shows client-side problems (field → message) next to their fields and focuses the first
   * one in `order`; returns true when there were some.
   */
  check: (errors: Partial<Record<F, string>>, order: readonly F[]) => boolean;
  /** An API error: next to its field when it names one of `fields` (and focuses it), else above the submit button. */
  fail: (err: unknown) => void;
}

/**
 * Error state of a form whose inputs have ids `${prefix}-${field}` (as TextField and
 * friends get them), for fields named as the API names them.
 */
export function useFormErrors<F extends string>(prefix: string, fields: readonly F[]): FormErrors<F> {
  const { t } = useI18n();
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<F, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);

  const clear = useCallback(() => {
    setFieldErrors({});
    setFormError(null);
  }, []);

  const check = useCallback(
    (errors: Partial<Record<F, string>>, order: readonly F[]) => {
      setFieldErrors(errors);
      setFormError(null);
      const first = order.find((f) => errors[f]);
      if (first) focusLater(`${prefix}-${first}`);
      return first !== undefined;
    },
    [prefix],
  );

  const fail = useCallback(
    (err: unknown) => {
      const field =
        err instanceof ApiError && err.field && (fields as readonly string[]).includes(err.field)
          ? (err.field as F)
          : null;
      if (field && err instanceof ApiError) {
        setFieldErrors({ [field]: fieldErrorText(err, t) } as Partial<Record<F, string>>);
        setFormError(null);
        focusLater(`${prefix}-${field}`);
      } else {
        setFieldErrors({});
        setFormError(errorText(err, t));
      }
    },
    [prefix, fields, t],
  );

  return { fieldErrors, formError, clear, check, fail };
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return ids || undefined;
}

function FieldFrame({
  id,
  label,
  hint,
  error,
  className,
  children,
}: {
  id: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  className?: string | undefined;
  children: ComponentChildren;
}) {
  return (
    <div class={className ? `field ${className}` : 'field'}>
      <label for={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} class="field-hint">
          {hint}
        </p>
      )}
      {children}
      {error && (
        <p id={`${id}-error`} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

type InputRest = Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'label' | 'class' | 'className'>;

export function TextField({
  id,
  label,
  hint,
  error,
  value,
  onValue,
  className,
  ...rest
}: InputRest & {
  id: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  value: string;
  onValue: (value: string) => void;
  className?: string;
}) {
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={className}>
      <input
        type="text"
        {...rest}
        id={id}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </FieldFrame>
  );
}

type TextareaRest = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'value' | 'class' | 'className'>;

export function TextAreaField({
  id,
  label,
  hint,
  error,
  value,
  onValue,
  ...rest
}: TextareaRest & {
  id: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  value: string;
  onValue: (value: string) => void;
}) {
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error}>
      <textarea
        {...rest}
        id={id}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </FieldFrame>
  );
}

type SelectRest = Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id' | 'value' | 'class' | 'className'>;

export function SelectField<V extends string>({
  id,
  label,
  hint,
  error,
  value,
  onValue,
  options,
  className,
  ...rest
}: SelectRest & {
  id: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  value: V;
  onValue: (value: V) => void;
  options: ReadonlyArray<{ value: V; label: string; lang?: string }>;
  className?: string;
}) {
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} className={className}>
      <select
        {...rest}
        id={id}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(e) => onValue(e.currentTarget.value as V)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value} lang={o.lang}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

/** The form-level error (role=alert), shown only when there is one. */
export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="form-error" role="alert">
      {message}
    </p>
  );
}

/** A polite live region for "Saved." and the like; always present so that changes are announced. */
export function Status({ message, id }: { message: string | null; id?: string }) {
  return (
    <p class="status" role="status" id={id}>
      {message ?? ''}
    </p>
  );
}

/**
 * A submit button that says it is busy. It stays focusable while busy (aria-disabled, not
 * disabled, so keyboard focus is not lost); the form ignores submissions meanwhile.
 */
export function SubmitButton({ busy, label, busyLabel }: { busy: boolean; label: string; busyLabel?: string }) {
  const { t } = useI18n();
  return (
    <button type="submit" class="button" aria-disabled={busy ? 'true' : undefined}>
      {busy ? (busyLabel ?? t('common.working')) : label}
    </button>
  );
}

/** The new password and its confirmation, as the password change and the reset link ask them. */
export function NewPasswordFields({
  ids,
  value,
  onValue,
  confirm,
  onConfirm,
  errors,
}: {
  ids: { password: string; confirm: string };
  value: string;
  onValue: (value: string) => void;
  confirm: string;
  onConfirm: (value: string) => void;
  errors: { password?: string | undefined; confirm?: string | undefined };
}) {
  const { t } = useI18n();
  return (
    <>
      <TextField
        id={ids.password}
        label={t('password.new')}
        hint={t('password.rule')}
        type="password"
        autoComplete="new-password"
        required
        value={value}
        onValue={onValue}
        error={errors.password}
      />
      <TextField
        id={ids.confirm}
        label={t('password.confirm')}
        type="password"
        autoComplete="new-password"
        required
        value={confirm}
        onValue={onConfirm}
        error={errors.confirm}
      />
    </>
  );
}

/** The browser-side check of a new password: the server's minimum, and the two entries match. */
export function newPasswordProblem(value: string, confirm: string): { field: 'password' | 'confirm'; message: MessageKey } | null {
  if (value.length < 10) return { field: 'password', message: 'error.passwordShort' };
  if (confirm !== value) return { field: 'confirm', message: 'password.mismatch' };
  return null;
}
