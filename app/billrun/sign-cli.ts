/**
 * `npm run sign -- '<data json>' [--query]`: signs BillRun `data` the way a BillRun client does,
 * for manual calls to /paymentgateways/getRequest.
 */
import { DEV_BILLRUN_SECRET as DEV_SECRET, parseConfig } from '../../config';
import { unixSeconds } from '../shared/clock';
import { activeSecret, signData } from './billrun-signature';
import { parseJsonTree } from './php-json';

const HELP = `Usage: npm run sign -- '<data json>' [--query]

Signs BillRun getRequest data: adds "_t_" (now, unix seconds) when missing and "_sig_" as the last key.
  --query   print "data=<url-encoded signed json>" for a GET query string
  --help    this text
The secret is the first currently valid one in BILLRUN_SHARED_SECRETS (comma-separated keys, or a
JSON array of {"key","from","to"}); unset: ${DEV_SECRET}.
Example: npm run sign -- '{"aid":12345,"name":"StripeCheckout","iframe":true,"ok_page":"http://localhost/ok","fail_page":"http://localhost/fail"}'
`;

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const unknown = argv.filter((a) => a.startsWith('--') && a !== '--query');
  const positional = argv.filter((a) => !a.startsWith('--'));
  if (unknown.length > 0 || positional.length !== 1) {
    process.stderr.write(HELP);
    return 2;
  }
  const query = argv.includes('--query');

  const now = new Date();
  // The service's own configuration: the same secrets, the same development default.
  const secret = activeSecret(parseConfig(process.env).billrun.sharedSecrets, now);
  if (!secret) throw new Error('BILLRUN_SHARED_SECRETS has no secret valid now');
  if (secret.key === DEV_SECRET) process.stderr.write(`note: BILLRUN_SHARED_SECRETS is not set, signing with the dev secret "${DEV_SECRET}"\n`);
  const key = secret.key;

  const tree = parseJsonTree(positional[0]!);
  if (tree.kind !== 'object') throw new Error('data must be a JSON object');
  if (!tree.entries.some(([k]) => k === '_t_')) {
    // BillRun's own clients send (string) time().
    tree.entries.push(['_t_', { kind: 'string', value: String(unixSeconds(now)) }]);
  }
  const signed = signData(tree, key);
  process.stdout.write(`${query ? `data=${encodeURIComponent(signed)}` : signed}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`sign: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
