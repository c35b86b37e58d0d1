import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // 62 does not divide 256: rejection sampling keeps the alphabet uniform.
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    const b = bytes[i];
    if (b < 248) out += ALNUM[b % 62];
  }
  return out.length === length ? out : out + randomAlnum(length - out.length);
}

/** Stripe-looking ids: `acct_` + 16, `cus_` + 14, `seti_` + 24, `cs_test_a1` + 56, ... */
export const newId = {
  account: () => `acct_${randomAlnum(16)}`,
  customer: () => `cus_${randomAlnum(14)}`,
  checkoutSession: () => `cs_test_a1${randomAlnum(56)}`,
  setupIntent: () => `seti_${randomAlnum(24)}`,
  paymentMethod: () => `pm_${randomAlnum(24)}`,
  paymentIntent: () => `pi_${randomAlnum(24)}`,
  charge: () => `ch_${randomAlnum(24)}`,
  refund: () => `re_${randomAlnum(24)}`,
  invoice: () => `in_${randomAlnum(24)}`,
  webhookEndpoint: () => `we_${randomAlnum(24)}`,
  webhookSecret: () => `whsec_${randomAlnum(32)}`,
  ephemeralKey: () => `ephkey_${randomAlnum(24)}`,
  ephemeralKeySecret: () => `ek_test_${randomAlnum(96)}`,
  event: () => `evt_${randomAlnum(24)}`,
  request: () => `req_${randomAlnum(14)}`,
  clientSecretSuffix: () => randomAlnum(25),
};
