import { README_END, README_START, embedInReadme } from '../../../bench/report';

describe('the README bench table', () => {
  it('replaces only what lies between the markers, keeping them', () => {
    const readme = `# T\n\n## Performance\n${README_START}\nold table\n${README_END}\n\nafter\n`;
    const updated = embedInReadme(readme, '| new |');
    expect(updated).toBe(`# T\n\n## Performance\n${README_START}\n| new |\n${README_END}\n\nafter\n`);
    expect(embedInReadme(updated, '| new |')).toBe(updated);
  });

  it('refuses a README without the markers rather than appending somewhere', () => {
    expect(() => embedInReadme('# T\n', 'x')).toThrow(/bench:start/);
  });
});
