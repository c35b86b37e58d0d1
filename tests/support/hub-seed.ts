/**
 * The seed's request bodies (../shared/seeds/004_211a5edbd1422eac.txt), verbatim but for the
 * vendor id and token, which each test's own merchant has.
 */
export const seedCreateTokenOnly = (vendorId: string) => ({
  payment_vendor: vendorId,
  credit_card: {
    account_name: 'John Doe',
    account_number: '3530111333300000',
    exp_month: '12',
    exp_year: 2040,
    cvn: '123',
    email: 'dev@bookandlink.com',
    phone: '081xxxxxxxxxxxx',
  },
});

export const seedCreateTokenAndCharge = (vendorId: string) => ({
  payment_vendor: vendorId,
  credit_card: {
    account_name: 'John Doe',
    account_number: '4000000000001091',
    exp_month: '12',
    exp_year: 2040,
    cvn: '123',
    email: 'dev@bookandlink.com',
    phone: '081xxxxxxxxxxxx',
  },
  transaction_detail: {
    merchant_ref_code: '84b88501',
    amount: 100000,
    service_charge: 0,
    description: 'Invoice 84b88501',
    currency: 'IDR',
    first_name: '',
    last_name: '',
    mobile: '',
    email: '',
    send_email: true,
    webhook_url: 'https://clientpage.io/webhook/84b88501',
  },
});

export const seedCreate3dsToken = (vendorId: string) => ({
  payment_vendor: vendorId,
  credit_card: {
    account_name: 'John Doe',
    account_number: '3530111333300000',
    exp_month: '12',
    exp_year: 2040,
    cvn: '123',
    email: 'dev@bookandlink.com',
    phone: '+6281xxxxxxxxxxxx',
  },
  amount: 10000,
  currency: 'IDR',
  return_url: 'https://example.com/complete',
});

export const seedCheckTokenStatus = (vendorId: string, token: string) => ({
  payment_vendor: vendorId,
  token,
});

export const seedCreateCharge = (vendorId: string, token: string) => ({
  payment_vendor: vendorId,
  token,
  transaction_detail: {
    merchant_ref_code: 'TEST_STG-500000007',
    amount: 200000,
    service_charge: 0,
    description: 'Invoice TEST_STG-500000007',
    currency: 'IDR',
    first_name: '',
    last_name: '',
    mobile: '',
    email: '',
    payment_method: '',
    lang: '',
    send_email: true,
    webhook_url: 'https://payku.bnlstg.com/hook/payment/TEST_STG-500000007',
  },
});
