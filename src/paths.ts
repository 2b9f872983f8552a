import { fileURLToPath } from 'node:url';

/** The project's root folder (compiled code runs from `dist/src`, sources and assets stay at the root). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
