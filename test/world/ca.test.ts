import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, serialNumber } from './ca';

describe("the world's certificate authority", () => {
  it('draws serial numbers that are positive and minimally encoded (no leading zero byte), however many it draws', () => {
    // The old draw put a zero first byte in 1 of 256 serials; OpenSSL then refused the certificate ("illegal padding").
    for (let i = 0; i < 5000; i++) {
      const s = serialNumber();
      expect(s).toMatch(/^[0-9a-f]{32}$/);
      expect(parseInt(s.slice(0, 2), 16)).toBeGreaterThanOrEqual(1);
      expect(parseInt(s.slice(0, 2), 16)).toBeLessThanOrEqual(0x7f);
    }
  });

  it('issues a CA and a server certificate OpenSSL accepts, naming the simulated hosts', () => {
    const ca = createCertificateAuthority();
    const server = new X509Certificate(ca.serverCertPem);
    expect(server.checkIssued(new X509Certificate(ca.caPem))).toBe(true);
    expect(server.subjectAltName).toContain('DNS:*.vault.azure.net');
  });
});
