/**
 * `npm run hub -- <command>`: the admin API from a shell. It calls a running service (the
 * embedded database belongs to that process), at HUB_URL (default http://localhost:$PORT), with
 * HUB_ADMIN_TOKEN. It prints the JSON answer and exits non-zero when the service refused.
 */

const USAGE = `usage: npm run hub -- <command>
  merchants create <name>
  merchants list
  keys issue <merchant id> <public|secret>
  keys revoke <merchant id> <key id>
  vendors create <merchant id> [--name <name>] [--stripe-secret-key sk_...] [--stripe-publishable-key pk_...] [--stripe-webhook-secret whsec_...] [--allow-raw-card-data]
  vendors list <merchant id>
  vendors disable <merchant id> <vendor id>
  vendors webhook-secret <merchant id> <vendor id> <whsec_...>
environment: HUB_ADMIN_TOKEN (required), HUB_URL (default http://localhost:$PORT or :3000)`;

type Call = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: Record<string, unknown> };

const FLAGS = new Map([
  ['--name', 'name'],
  ['--stripe-secret-key', 'stripe_secret_key'],
  ['--stripe-publishable-key', 'stripe_publishable_key'],
  ['--stripe-webhook-secret', 'stripe_webhook_secret'],
]);

function vendorBody(args: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--allow-raw-card-data') body.allow_raw_card_data = true;
    else if (FLAGS.has(flag) && args[i + 1] !== undefined) body[FLAGS.get(flag) as string] = args[++i];
    else throw new Error(`unknown option ${flag}`);
  }
  return body;
}

const seg = (v: string | undefined, what: string): string => {
  if (!v) throw new Error(`missing ${what}`);
  return encodeURIComponent(v);
};

export function parseCommand(argv: string[]): Call {
  const [group, action, ...rest] = argv;
  const key = `${group ?? ''} ${action ?? ''}`;
  switch (key) {
    case 'merchants create':
      return { method: 'POST', path: '/merchants', body: { name: rest.join(' ') || undefined } };
    case 'merchants list':
      return { method: 'GET', path: '/merchants' };
    case 'keys issue':
      return { method: 'POST', path: `/merchants/${seg(rest[0], 'merchant id')}/keys`, body: { kind: rest[1] } };
    case 'keys revoke':
      return { method: 'DELETE', path: `/merchants/${seg(rest[0], 'merchant id')}/keys/${seg(rest[1], 'key id')}` };
    case 'vendors create':
      return { method: 'POST', path: `/merchants/${seg(rest[0], 'merchant id')}/vendors`, body: vendorBody(rest.slice(1)) };
    case 'vendors list':
      return { method: 'GET', path: `/merchants/${seg(rest[0], 'merchant id')}/vendors` };
    case 'vendors disable':
      return { method: 'POST', path: `/merchants/${seg(rest[0], 'merchant id')}/vendors/${seg(rest[1], 'vendor id')}/disable` };
    case 'vendors webhook-secret':
      return {
        method: 'PUT',
        path: `/merchants/${seg(rest[0], 'merchant id')}/vendors/${seg(rest[1], 'vendor id')}/webhook-secret`,
        body: { stripe_webhook_secret: rest[2] },
      };
    default:
      throw new Error(`unknown command "${argv.join(' ')}"`);
  }
}

export interface CliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
}

/** Runs one command; the exit code: 0 done, 1 refused or unreachable, 2 a usage mistake. */
export async function runHubCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help') {
    io.out(`${USAGE}\n`);
    return 0;
  }
  let call: Call;
  try {
    call = parseCommand(argv);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const token = io.env.HUB_ADMIN_TOKEN;
  if (!token) {
    io.err('HUB_ADMIN_TOKEN is not set: the admin API needs it (and the service must run with the same value)\n');
    return 2;
  }
  const base = (io.env.HUB_URL ?? `http://localhost:${io.env.PORT ?? 3000}`).replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/admin${call.path}`, {
      method: call.method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      ...(call.body ? { body: JSON.stringify(call.body) } : {}),
    });
  } catch (err) {
    io.err(`cannot reach the service at ${base} (${(err as Error).message}): is it running? set HUB_URL\n`);
    return 1;
  }
  io.out(`${await res.text()}\n`);
  return res.ok ? 0 : 1;
}

if (require.main === module) {
  void runHubCli(process.argv.slice(2), { env: process.env, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then((code) => {
    process.exitCode = code;
  });
}
