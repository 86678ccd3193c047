import { useI18n } from '../../i18n';
import { signInPath } from '../../session';
import { useTitle } from '../../components/views';

/** /questions for a visitor: what the section is, and a way in. */
export function QuestionsSignedOut() {
  const { t } = useI18n();
  useTitle(t('questions.title'));
  return (
    <section class="page" data-page="questions">
      <h1 tabIndex={-1}>{t('questions.title')}</h1>
      <p class="lead">{t('questions.intro')}</p>
      <p class="notice">
        <a href={signInPath('/questions')}>{t('questions.signIn')}</a>
      </p>
    </section>
  );
}
