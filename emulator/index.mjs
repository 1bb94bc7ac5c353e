// ESM entry: the implementation is CommonJS, so both module systems share one copy of it.
import emulator from './index.js';

export const { startEmulator, ERRORS, TOKEN_MARK, SECRET_MARK } = emulator;
export default emulator;
