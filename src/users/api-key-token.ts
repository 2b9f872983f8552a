import { createHash, randomBytes } from 'node:crypto';

/** API keys start with it, which tells them from JWTs. */
export const API_KEY_PREFIX = 'vgl_';

/** Only the hash of an API key is stored. */
export const hashApiKey = (token: string) => createHash('sha256').update(token).digest('hex');
export const newApiKeyToken = () => API_KEY_PREFIX + randomBytes(24).toString('base64url');
