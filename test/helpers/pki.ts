// The openssl test PKI lives in src/bench/ (the fleet benchmark needs it); tests import it from here.
export * from '../../src/bench/test-pki.js';
