// `adaclip-edge hash-password [--user NAME --role ROLE]`: a scrypt hash for dashboard.users. The
// password is read from the terminal without echo (asked twice), or from stdin when it is piped
// (one line), never from the command line (other users see it in `ps`). Prints the hash, or with
// --user the YAML entry to paste under dashboard.users.
import { createInterface } from 'node:readline';
import { hashPassword } from '../util/password-hash.js';

export interface HashPasswordOptions {
  user?: string;
  role: 'viewer' | 'operator';
}

export async function hashPasswordCommand(opts: HashPasswordOptions): Promise<number> {
  let password: string;
  if (process.stdin.isTTY) {
    password = await askHidden('Password: ');
    const again = await askHidden('Again: ');
    if (again !== password) {
      console.error('hash-password: the two passwords differ');
      return 2;
    }
  } else password = (await readStdin()).replace(/\r?\n$/, '');
  if (password.length < 8) {
    console.error('hash-password: the password must have at least 8 characters');
    return 2;
  }
  const hash = await hashPassword(password);
  if (opts.user === undefined) console.log(hash);
  else console.log(`- { name: ${JSON.stringify(opts.user)}, role: ${opts.role}, passwordHash: '${hash}' }`);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function askHidden(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // readline echoes what is typed through _writeToOutput: write the prompt only
  const w = rl as unknown as { _writeToOutput: (s: string) => void };
  w._writeToOutput = (s: string) => {
    if (s.startsWith(prompt)) process.stderr.write(prompt);
  };
  return new Promise((resolve) =>
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    }),
  );
}
