import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import forge from 'node-forge';
import path from 'node:path';
import { REPO_ROOT } from './paths';

// From the source tree: tsc does not copy .cjs files into dist/ (npm start and the bench run dist/test/world).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SUFFIXES, EXACT } = require(path.join(REPO_ROOT, 'test', 'world', 'hosts.cjs')) as { SUFFIXES: string[]; EXACT: string[] };

/**
 * Host names the one server certificate covers. The SDKs under test keep their real host names (the DNS preload maps
 * them to 127.0.0.1), so TLS verification runs exactly as in Azure: the certificate must name the real hosts.
 */
export const SERVER_DNS_NAMES: readonly string[] = [...SUFFIXES.map((s) => `*.${s}`), ...EXACT, 'localhost'];

export interface CertificateAuthority {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/**
 * Node's RSA key generation runs in OpenSSL (~50 ms for 2048 bits); forge's pure-JS generator takes seconds.
 * PKCS#1 PEM is the one private-key format forge imports without extra unwrapping.
 */
function rsaKeyPair(): forge.pki.rsa.KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey), privateKey: forge.pki.privateKeyFromPem(privateKey) };
}

/**
 * Serial numbers must be positive and minimally encoded: the first byte is 0x01–0x7f, so the DER integer needs no sign
 * byte and has no leading zero. (A zero first byte — 1 in 256 — made OpenSSL refuse the certificate with "asn1
 * encoding routines::illegal padding", failing a whole integration suite at random.)
 */
export function serialNumber(): string {
  return (1 + randomInt(127)).toString(16).padStart(2, '0') + randomBytes(15).toString('hex');
}

function validity(cert: forge.pki.Certificate): void {
  // Backdated a day so a client clock slightly behind ours still accepts it.
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
}

/** A throw-away CA and one server certificate for every simulated host. Nothing is cached across worlds. */
export function createCertificateAuthority(): CertificateAuthority {
  const caKeys = rsaKeyPair();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serialNumber();
  validity(ca);
  const caName = [
    { name: 'commonName', value: 'Identity Doctor Simulated Azure Root CA' },
    { name: 'organizationName', value: 'identity-doctor test world' },
  ];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = rsaKeyPair();
  const server = forge.pki.createCertificate();
  server.publicKey = serverKeys.publicKey;
  server.serialNumber = serialNumber();
  validity(server);
  server.setSubject([{ name: 'commonName', value: 'simulated.azure.test' }]);
  server.setIssuer(caName);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      // type 2 = dNSName, type 7 = iPAddress (RFC 5280 GeneralName tags).
      altNames: [...SERVER_DNS_NAMES.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    serverCertPem: forge.pki.certificateToPem(server),
    serverKeyPem: forge.pki.privateKeyToPem(serverKeys.privateKey),
  };
}
