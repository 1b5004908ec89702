// ESM entry: the client is written once, in CommonJS (index.js).
import cjs from './index.js';

export const { createClient, Client, DEFAULTS, ADDRESS_DEFAULTS } = cjs;
export default cjs;
