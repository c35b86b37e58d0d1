export { createBillrunRouter } from './billrun-routes';
export { signData, verifySignature, canonicalSignedText } from './billrun-signature';
