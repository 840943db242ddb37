// The API token, for a Vigil whose reads need it (API_TOKEN_READS=true). It is kept in sessionStorage
// (gone when the tab closes), sent only in the Authorization header, never in a URL, and asked for
// in the header's form when a data request is refused.

const KEY = 'vigil.token';

/** The token given in this tab, or null. */
export function storedToken() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the page still works where no token is needed
  }
}

/** The headers that carry `token` (none for null). */
export const authorization = (token) => (token ? { authorization: `Bearer ${token}` } : {});

/**
 * The header's token form (`#token-form`). `refused(token)` shows it when a request that sent
 * `token` got 401: asking for the token when none was sent, saying it was refused otherwise.
 * `accepted(token)` hides it once a request with `token` went through. Answers to requests sent
 * with an older token are ignored: they say nothing of the current one. Submitting stores the
 * token and calls `onToken()`, which should ask again for everything.
 */
export function tokenForm(onToken) {
  const form = document.querySelector('#token-form');
  const message = form.querySelector('.token-message');
  const input = form.querySelector('input');

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    try {
      sessionStorage.setItem(KEY, token);
    } catch {
      message.textContent = 'This browser keeps no session storage, so the token cannot be kept';
      return;
    }
    input.value = '';
    form.dataset.state = 'checking';
    message.textContent = 'Checking the token…';
    onToken();
  });

  return {
    refused(token) {
      if (token !== storedToken()) return;
      const state = token === null ? 'missing' : 'refused';
      if (!form.hidden && form.dataset.state === state) return; // already said, by another request
      form.dataset.state = state;
      message.textContent = state === 'missing' ? 'This Vigil needs its API token' : 'That token was refused: try again';
      form.hidden = false;
      input.focus();
    },
    accepted(token) {
      if (token !== storedToken()) return;
      form.hidden = true;
      form.dataset.state = 'accepted';
    },
  };
}
