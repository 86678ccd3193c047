// The English catalogue is the reference: its keys define `MessageKey`, and every
// other catalogue must provide exactly these keys (see `Messages`).
export const en = {
  'app.name': 'Relais',
  'app.tagline': 'Your experts, your communities, your customers’ answers',
  'app.skip': 'Skip to main content',
  'app.footer': 'Relais — the enterprise social network that connects questions to the people who know.',

  'nav.label': 'Main navigation',
  'nav.home': 'Home',
  'nav.questions': 'Questions',
  'nav.communities': 'Communities',
  'nav.people': 'People',
  'nav.signin': 'Sign in',

  'lang.label': 'Language',

  'page.soon': 'This feature is coming soon.',

  'home.title': 'Welcome to Relais',
  'home.intro':
    'Relais brings your communities of practice, your experts and your customers’ questions together in one place.',

  'questions.title': 'Questions',
  'questions.intro': 'Questions from customers, routed to the experts who can answer them.',

  'communities.title': 'Communities',
  'communities.intro': 'Communities of practice where colleagues share what they know.',

  'people.title': 'People',
  'people.intro': 'Find colleagues and their areas of expertise.',

  'signin.title': 'Sign in',
  'signin.intro': 'Sign in with your work e-mail address.',
  'signin.email': 'E-mail address',
  'signin.password': 'Password',
  'signin.submit': 'Sign in',
  'signin.unavailable': 'Sign-in is not available yet.',
  'signin.emailRequired': 'Enter your e-mail address.',
  'signin.emailInvalid': 'Enter an e-mail address such as name@example.com.',
  'signin.passwordRequired': 'Enter your password.',

  'notfound.title': 'Page not found',
  'notfound.body': 'There is no page at {path}.',
  'notfound.home': 'Go to the home page',

  'error.network': 'The server cannot be reached. Check your connection and try again.',
  'error.unknown': 'Something went wrong. Please try again.',
};

export type MessageKey = keyof typeof en;
export type Messages = { readonly [K in MessageKey]: string };
