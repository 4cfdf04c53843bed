import { HttpRequest } from '@azure/functions';
import { formatFromAccept } from '../../../src/output/accept';
import { FORMATS, negotiateFormat } from '../../../src/output';

const request = (accept?: string) =>
  new HttpRequest({ method: 'GET', url: 'http://localhost/api/diagnose', headers: accept === undefined ? {} : { accept } });

describe('choosing the format from Accept', () => {
  it.each([
    ['a browser navigation', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', 'html'],
    ['a pipeline asking for plain text', 'text/plain', 'text'],
    ['a test reporter asking for JUnit', 'application/junit+xml', 'junit'],
    ['plain XML', 'application/xml', 'junit'],
    ['JSON', 'application/json', 'json'],
    ['the highest quality, not the first listed', 'text/plain;q=0.4, application/json;q=0.9', 'json'],
    ['the first listed among equal qualities', 'text/plain, text/html', 'text'],
    ['case-insensitive media types', 'Text/HTML', 'html'],
  ])('picks %s', (_label, accept, format) => {
    expect(formatFromAccept(accept)).toBe(format);
  });

  it.each([
    ['curl\'s default', '*/*'],
    ['a wildcard subtype', 'text/*'],
    ['a type we do not render', 'application/yaml'],
    ['q=0 (explicitly not acceptable)', 'text/html;q=0'],
    ['a malformed quality', 'text/html;q=high'],
    ['an empty header', ''],
  ])('falls back to JSON for %s', (_label, accept) => {
    expect(formatFromAccept(accept)).toBeUndefined();
    expect(negotiateFormat(request(accept), undefined)).toBe('json');
  });

  it('serves JSON when there is no Accept header at all', () => {
    expect(negotiateFormat(request(), undefined)).toBe('json');
  });

  it('lets ?format= win over Accept', () => {
    expect(negotiateFormat(request('text/html'), 'junit')).toBe('junit');
    expect(negotiateFormat(request('application/json'), 'text')).toBe('text');
  });

  it('offers every negotiable format through ?format= too', () => {
    expect([...FORMATS]).toEqual(['json', 'text', 'junit', 'html']);
  });
});
