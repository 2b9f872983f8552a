export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client over fetch, as an API user would call Vigil. */
export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  as(token: string | undefined): Api {
    return new Api(this.baseUrl, token, this.headers);
  }

  withHeaders(headers: Record<string, string>): Api {
    return new Api(this.baseUrl, this.token, { ...this.headers, ...headers });
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...this.headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }
  put<T = any>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, body ?? {});
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body ?? {});
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }

  /** Logs in and returns a client that sends the token. */
  async login(email: string, password: string): Promise<Api> {
    const result = await this.post<{ access_token: string }>('/api/v1/auth/login', { email, password });
    if (result.status !== 200)
      throw new Error(`login failed for ${email}: ${result.status} ${JSON.stringify(result.body)}`);
    return this.as(result.body.access_token);
  }
}

/** A web page as `user` sees it, signed in through the login form; fails unless it answers 200. */
export async function webPage(
  baseUrl: string,
  path: string,
  user: { email: string; password: string },
): Promise<string> {
  const cookies = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);
  const form = await fetch(`${baseUrl}/web/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const login = await fetch(`${baseUrl}/web/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookies(form).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email: user.email, password: user.password }),
  });
  const session = cookies(login).find((c) => c.startsWith('vigil_session='));
  if (!session) throw new Error(`sign-in as ${user.email} failed (HTTP ${login.status})`);
  const page = await fetch(`${baseUrl}${path}`, { headers: { cookie: session } });
  if (page.status !== 200) throw new Error(`${path}: HTTP ${page.status}`);
  return page.text();
}
