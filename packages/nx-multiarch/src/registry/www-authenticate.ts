/**
 * Parses `WWW-Authenticate` challenges (RFC 9110 section 11.6.1), as
 * registries send them: `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`
 * or `Basic realm="Registry"`. Only the parts a registry uses are handled:
 * one or more schemes, each with quoted or token parameters.
 */
export interface Challenge {
  /** Lower case: `basic`, `bearer`. */
  scheme: string;
  params: Record<string, string>;
}

export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const challenges: Challenge[] = [];
  for (const value of values) challenges.push(...parseOne(value));
  return challenges;
}

function parseOne(text: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /[\s,]/.test(text[i])) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < text.length && /[^\s,=]/.test(text[i])) i++;
    return text.slice(start, i);
  };
  const readQuoted = (): string => {
    // Called with text[i] === '"'.
    i++;
    let out = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      out += text[i++];
    }
    i++;
    return out;
  };
  let current: Challenge | undefined;
  while (i < text.length) {
    skipSpace();
    if (i >= text.length) break;
    const token = readToken();
    if (!token) {
      i++;
      continue;
    }
    // After optional spaces, `=` means a parameter of the current scheme; otherwise a new scheme.
    let j = i;
    while (j < text.length && text[j] === ' ') j++;
    if (text[j] === '=' && current) {
      i = j + 1;
      while (i < text.length && text[i] === ' ') i++;
      const value = text[i] === '"' ? readQuoted() : readToken();
      current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}
