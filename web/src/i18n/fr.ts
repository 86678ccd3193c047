import type { Messages } from './en';

// Typed against the English keys: a missing or extra key is a compile error.
export const fr: Messages = {
  'app.name': 'Relais',
  'app.tagline': 'Vos experts, vos communautés, les réponses à vos clients',
  'app.skip': 'Aller au contenu principal',
  'app.footer': 'Relais — le réseau social d’entreprise qui relie les questions aux personnes qui savent.',

  'nav.label': 'Navigation principale',
  'nav.home': 'Accueil',
  'nav.questions': 'Questions',
  'nav.communities': 'Communautés',
  'nav.people': 'Personnes',
  'nav.signin': 'Se connecter',

  'lang.label': 'Langue',

  'page.soon': 'Cette fonctionnalité arrive bientôt.',

  'home.title': 'Bienvenue sur Relais',
  'home.intro':
    'Relais réunit vos communautés de pratique, vos experts et les questions de vos clients en un seul endroit.',

  'questions.title': 'Questions',
  'questions.intro': 'Les questions des clients, transmises aux experts qui peuvent y répondre.',

  'communities.title': 'Communautés',
  'communities.intro': 'Des communautés de pratique où les collègues partagent ce qu’ils savent.',

  'people.title': 'Personnes',
  'people.intro': 'Trouvez vos collègues et leurs domaines d’expertise.',

  'signin.title': 'Connexion',
  'signin.intro': 'Connectez-vous avec votre adresse e-mail professionnelle.',
  'signin.email': 'Adresse e-mail',
  'signin.password': 'Mot de passe',
  'signin.submit': 'Se connecter',
  'signin.unavailable': 'La connexion n’est pas encore disponible.',
  'signin.emailRequired': 'Saisissez votre adresse e-mail.',
  'signin.emailInvalid': 'Saisissez une adresse e-mail comme nom@exemple.fr.',
  'signin.passwordRequired': 'Saisissez votre mot de passe.',

  'notfound.title': 'Page introuvable',
  'notfound.body': 'Il n’y a pas de page à l’adresse {path}.',
  'notfound.home': 'Aller à la page d’accueil',

  'error.network': 'Le serveur est injoignable. Vérifiez votre connexion et réessayez.',
  'error.unknown': 'Une erreur est survenue. Veuillez réessayer.',
};
