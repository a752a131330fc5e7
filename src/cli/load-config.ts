// A command's config file: loaded and validated, or every problem printed (a bad file is a usage
// error with exit code 2, not a crash with a stack trace).
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { redactSecrets } from '../util/redact.js';

export function loadCommandConfig(file: string): Config | undefined {
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(redactSecrets(err.message));
      return undefined;
    }
    throw err;
  }
}
