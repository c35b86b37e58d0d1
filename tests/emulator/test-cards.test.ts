import { TEST_CARDS, detectBrand, lookupCardNumber, lookupMagicId, luhnValid } from '../../emulator/test-cards';

describe('emulator: the test-card table', () => {
  it('when every table number is checked, then each passes Luhn and resolves to its own row', () => {
    for (const card of TEST_CARDS) {
      expect(card.number).not.toBeNull();
      const number = card.number as string;
      expect(luhnValid(number)).toBe(true);
      const found = lookupCardNumber(number);
      expect(found.ok && found.identity.card.key).toBe(card.key);
    }
  });

  it('when every magic id is looked up, then it resolves to its row, also as a tok_ id', () => {
    for (const card of TEST_CARDS) {
      for (const id of card.magicIds) {
        expect(lookupMagicId(id)?.card.key).toBe(card.key);
        expect(lookupMagicId(id.replace('pm_card_', 'tok_'))?.card.key).toBe(card.key);
      }
    }
    expect(lookupMagicId('pm_card_visa')?.last4).toBe('4242');
    expect(lookupMagicId('pm_card_nope')).toBeUndefined();
  });

  it.each([
    ['4242424242424241', 'incorrect_number'],
    ['1234', 'invalid_number'],
    ['4242-4242-4242-424x', 'invalid_number'],
  ])('when %s is entered, then it fails with %s', (number, code) => {
    const found = lookupCardNumber(number);
    expect(found.ok).toBe(false);
    expect(!found.ok && found.decline.code).toBe(code);
  });

  it.each([
    ['4111111111111111', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['371449635398431', 'amex'],
    ['3566002020360505', 'jcb'],
    ['6011111111111117', 'discover'],
  ])('when unknown number %s passes Luhn, then it is a generic %s card that saves', (number, brand) => {
    expect(detectBrand(number)).toBe(brand);
    const found = lookupCardNumber(number);
    expect(found.ok && found.identity).toMatchObject({ brand, last4: number.slice(-4), card: { key: 'generic', setup: { kind: 'succeed' } } });
  });

  it('when the setup behaviours are listed, then they match the documented table', () => {
    const setup = Object.fromEntries(TEST_CARDS.map((c) => [c.number, c.setup.kind === 'decline' ? c.setup.decline.code : c.setup.kind]));
    expect(setup).toEqual({
      '4242424242424242': 'succeed',
      '4000002500003155': 'three_d_secure',
      '4000002760003184': 'three_d_secure',
      '4000000000003220': 'three_d_secure',
      '4000008400001629': 'three_d_secure',
      '4000000000000002': 'card_declined',
      '4000000000009995': 'succeed',
      '4000000000009987': 'card_declined',
      '4000000000009979': 'card_declined',
      '4000000000000069': 'expired_card',
      '4000000000000127': 'incorrect_cvc',
      '4000000000000119': 'processing_error',
      '4000000000000341': 'succeed',
      '3530111333300000': 'succeed',
      '4000000000001091': 'succeed',
      '4100000000000019': 'card_declined',
      '378282246310005': 'succeed',
    });
    const unsupported = TEST_CARDS.filter((c) => !c.threeDSecureSupported).map((c) => c.number);
    expect(unsupported).toEqual(['378282246310005']);
    const charge = Object.fromEntries(TEST_CARDS.map((c) => [c.number, c.charge.kind]));
    expect(charge['4000002760003184']).toBe('auth_required_always');
    expect(charge['4000002500003155']).toBe('auth_on_setup_only');
    expect(charge['4000000000009995']).toBe('decline');
    expect(charge['4000008400001629']).toBe('3ds_then');
  });
});
