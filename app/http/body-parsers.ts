import express, { type Request } from 'express';

const keepRaw = (req: Request, _res: unknown, buf: Buffer): void => {
  req.rawBody = buf;
};

/** JSON (keeping the raw bytes) and form bodies, with sizes no client of ours needs to exceed. */
export const jsonBody = express.json({ limit: '100kb', verify: keepRaw, type: ['application/json', 'application/*+json'] });
export const formBody = express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 200 });
