// Secrets never leave the process in text: a broker URL's or a camera URI's user:password@, and
// the password parameters of query strings and GStreamer pipelines (rtspsrc user-pw=...), are
// masked in every log line, error and status text that could carry one. One helper for every door
// (the logger's output stream, doctor, the CLI's errors, camera states, the dashboard's status).

// userinfo of any URL (scheme://user:password@host): never crosses a quote, a slash or a space, so
// a JSON log line stays valid
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'\\]+@/gi;
// password-like parameters: ?password=..., &pwd=..., GStreamer user-pw=..., key=value in a pipeline
const PASSWORD_PARAM = /\b(user-pw|password|passwd|pwd|pass)=([^\s&"'!;\\]+)/gi;

/** `text` with every URL's user:password@ and every password parameter replaced by ***. */
export function redactSecrets(text: string): string {
  return text.replace(USERINFO, '$1***@').replace(PASSWORD_PARAM, '$1=***');
}

/** A URL safe to print (the same masking, for a single URL). */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}
