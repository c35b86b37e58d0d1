import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createMerchant, createVendor } from './hub-admin-service';
import type { Hub } from './hub-context';
import { findMerchant } from './merchant-repository';
import { findVendor } from './vendor-repository';

/** The sandbox's demo merchant, as a newcomer pastes it: keys, webhook secret and the sandbox vendor. */
export interface DemoMerchant {
  merchant_id: string;
  public_key: string;
  secret_key: string;
  webhook_secret: string;
  vendor_id: string;
}

const FILE = 'hub-demo.json';

/**
 * Sandbox only: a demo merchant with a sandbox vendor, made once. Its keys are kept in DATA_DIR
 * (they are stored only as hashes in the database), so every start can print them again.
 */
export async function ensureDemoMerchant(hub: Hub, dataDir: string): Promise<DemoMerchant> {
  // An in-memory database starts empty every time: so does its demo merchant, and nothing is written.
  const inMemory = dataDir.startsWith('memory://');
  const file = path.join(dataDir, FILE);
  if (!inMemory && existsSync(file)) {
    const known = JSON.parse(readFileSync(file, 'utf8')) as DemoMerchant;
    if ((await findMerchant(hub.deps.db, known.merchant_id)) && (await findVendor(hub.deps.db, known.merchant_id, known.vendor_id))) return known;
  }
  const merchant = await createMerchant(hub, 'Demo merchant (sandbox)');
  const vendor = await createVendor(hub, merchant.id, { name: 'Sandbox Stripe (emulator)', allowRawCardData: true });
  const demo: DemoMerchant = {
    merchant_id: merchant.id,
    public_key: merchant.public_key,
    secret_key: merchant.secret_key,
    webhook_secret: merchant.webhook_secret,
    vendor_id: vendor.id,
  };
  if (inMemory) return demo;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return demo;
}

/** The seed's "Create Token Only" request, with this service's base URL, the demo key and vendor. */
export function demoCurl(baseUrl: string, demo: DemoMerchant): string {
  return [
    `curl --location '${baseUrl}/api/v1/transactions/token' \\`,
    `--header 'Accept: application/json' \\`,
    `--header 'Authorization: Bearer ${demo.public_key}' \\`,
    `--header 'Content-Type: application/json' \\`,
    `--data '{`,
    `    "payment_vendor": "${demo.vendor_id}",`,
    `    "credit_card" : {`,
    `        "account_name" : "John Doe",`,
    `        "account_number" : "3530111333300000",`,
    `        "exp_month" : "12",`,
    `        "exp_year" : 2040,`,
    `        "cvn" : "123",`,
    `        "email" : "dev@bookandlink.com",`,
    `        "phone" : "081xxxxxxxxxxxx"`,
    `    }`,
    `}'`,
  ].join('\n');
}
